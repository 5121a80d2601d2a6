"""Settings objects. ``create_app`` picks one from ``PROFREG_CONFIG`` (default / production / testing).

Every setting can be overridden by an environment variable of the same name.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("PROFREG_INSTANCE", ROOT / "instance"))


def _db_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # psycopg 3 is the driver we ship; a bare postgresql:// would select psycopg2.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class DefaultConfig:
    """Development / demo: SQLite file in instance/, jobs run inline (no Redis)."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _db_url(f"sqlite:///{INSTANCE / 'profreg.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "profreg")
    SWEEP_HOUR = int(os.environ.get("SWEEP_HOUR", "2"))
    TIMEZONE = "Asia/Almaty"
    CERT_WARNING_MONTHS = int(os.environ.get("CERT_WARNING_MONTHS", "2"))
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE / "documents"))
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "profreg@localhost")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "ru")
    BABEL_DEFAULT_TIMEZONE = "Asia/Almaty"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = ("kk", "ru", "en")
    LOGIN_MAX_FAILURES = 10
    # argon2 cost of new password hashes: a name in ``argon2.profiles`` (hashes made under any profile
    # still verify: argon2 stores its parameters in the hash).
    PASSWORD_HASH_PROFILE = os.environ.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")
    LOGIN_LOCKOUT_MINUTES = 15
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR = False
    # Unfiltered lists the planner expects to exceed this many rows (the whole register, a large
    # region) show PostgreSQL's estimate, labelled, instead of an exact count on every page.
    FILTER_OPTIONS_TTL = int(os.environ.get("FILTER_OPTIONS_TTL", "60"))  # seconds, per locale
    ESTIMATED_COUNT_THRESHOLD = int(os.environ.get("ESTIMATED_COUNT_THRESHOLD", "10000"))
    # The national record's integrity (docs/integrity.md): how long the organization that entered a
    # record may correct it; how long the last employer may correct a departed worker; failed lookups
    # of "hire a registered worker" a user may make in an hour.
    CORRECTION_DAYS = int(os.environ.get("CORRECTION_DAYS", "30"))
    CORRECTION_MONTHS_AFTER_END = int(os.environ.get("CORRECTION_MONTHS_AFTER_END", "12"))
    HIRE_LOOKUP_FAILURES_PER_HOUR = int(os.environ.get("HIRE_LOOKUP_FAILURES_PER_HOUR", "5"))
    # List exports (docs/exports.md): up to this many rows the file is made at once; a bigger one is a
    # background job with progress, its file kept this many hours for the user who asked for it.
    EXPORT_INLINE_MAX_ROWS = int(os.environ.get("EXPORT_INLINE_MAX_ROWS", "10000"))
    EXPORT_KEEP_HOURS = int(os.environ.get("EXPORT_KEEP_HOURS", "72"))
    EXPORT_FOLDER = os.environ.get("EXPORT_FOLDER", str(INSTANCE / "exports"))
    # The API (docs/api.md): requests a token may make (Flask-Limiter notation), page sizes.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/minute")
    RATELIMIT_HEADERS_ENABLED = True
    TESTING = False


class ProductionConfig(DefaultConfig):
    """PostgreSQL (DATABASE_URL) + Redis (REDIS_URL); secure cookies."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}


class TestingConfig(DefaultConfig):
    """Used by pytest; the database URL is set by tests/conftest.py."""

    TESTING = True
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    REDIS_URL = None
    MAIL_SERVER = None
    WTF_CSRF_ENABLED = True
    LOGIN_LOCKOUT_MINUTES = 15
    PASSWORD_HASH_PROFILE = "CHEAPEST"  # argon2's test-only profile: the suite hashes hundreds of passwords


CONFIGS = {"default": DefaultConfig, "production": ProductionConfig, "testing": TestingConfig}
