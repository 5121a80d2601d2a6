"""Flask extensions: created once here, initialised in ``create_app``."""
from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .replica import RoutingSession

# Stable constraint names on SQLite and PostgreSQL alike (Alembic batch mode needs them).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# The session class routes reports' reads to a read replica when one is configured (profreg/replica.py).
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
#: The app's one rate limiter (Flask-Limiter), shared by every part that limits requests (sign-in:
#: ``auth.services``; an API adds its own limits to this same instance). Storage: Redis when
#: ``REDIS_URL`` is set (production: every worker process counts together), memory otherwise; no
#: default limit on other pages. Behind a proxy the client address needs ``PROXY_FIX`` (config).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
