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
    POSTGRES_JIT = os.environ.get("POSTGRES_JIT", "0") == "1"  # off: see profreg._postgres_settings
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "profreg")
    # Back-off of failed jobs (seconds, comma-separated; default 60,600,3600): RQ retries a job that
    # raised, or whose worker died, after each interval in turn (needs ``rq worker --with-scheduler``).
    JOB_RETRY_INTERVALS = [int(x) for x in os.environ.get("JOB_RETRY_INTERVALS", "").split(",") if x.strip()] or None
    SWEEP_HOUR = int(os.environ.get("SWEEP_HOUR", "2"))
    TIMEZONE = "Asia/Almaty"
    CERT_WARNING_MONTHS = int(os.environ.get("CERT_WARNING_MONTHS", "2"))
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(INSTANCE / "documents"))
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
    # Every request body: refused with 413 before it is read (an upload plus its form's fields).
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "profreg@localhost")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    # A failed mail is tried again after this many seconds, then twice as long each time (max one day).
    MAIL_RETRY_SECONDS = int(os.environ.get("MAIL_RETRY_SECONDS", "300"))
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "ru")
    BABEL_DEFAULT_TIMEZONE = "Asia/Almaty"
    # the package's catalogs (profreg/translations: a link to translations/ in a checkout, the files in an
    # installed copy), so that a plain ``pip install .`` serves kk and ru
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "profreg" / "translations")
    LANGUAGES = ("kk", "ru", "en")
    # A report's deadline (the 10th) on a non-working day moves to the next working day (general rule on
    # time limits); "0" keeps the literal date (docs/monitoring.md).
    DEADLINES_MOVE_TO_WORKING_DAY = os.environ.get("DEADLINES_MOVE_TO_WORKING_DAY", "1") == "1"
    LOGIN_MAX_FAILURES = 10  # no longer locks an account (issue 18): see the limits below
    # Failed sign-ins tolerated (Flask-Limiter rate strings, moving window) before further attempts are
    # refused with the same message: from one client address whatever the account, and for one account
    # from one address (a delay for that attacker, never a lockout of the owner signing in elsewhere).
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per minute; 200 per hour")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute; 20 per hour")
    RATELIMIT_STRATEGY = "moving-window"
    # argon2 cost of new password hashes: a name in ``argon2.profiles`` (hashes made under any profile
    # still verify: argon2 stores its parameters in the hash).
    PASSWORD_HASH_PROFILE = os.environ.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")
    # Signed-in sessions (server-side, revocable: auth.models.UserSession): signed out after this many
    # idle minutes, and this many hours after sign-in whatever the activity.
    SESSION_IDLE_MINUTES = float(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    SESSION_MAX_HOURS = float(os.environ.get("SESSION_MAX_HOURS", "12"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Two-factor sign-in (TOTP): the roles that must use it (comma-separated codes; they enrol at their
    # next sign-in). Everyone else may enrol from "Two-step sign-in" in the account menu. None here, so
    # the demo logins keep working; production: admin, ministry, region.
    TOTP_REQUIRED_ROLES = os.environ.get("TOTP_REQUIRED_ROLES", "")
    TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "Professional Register")
    # Wrong second-step codes tolerated per account (from any address: the password is already known)
    # and per address; the second step must follow the password within this many minutes.
    TOTP_LIMIT_PER_ACCOUNT = os.environ.get("TOTP_LIMIT_PER_ACCOUNT", "5 per minute; 30 per hour")
    TOTP_PENDING_MINUTES = float(os.environ.get("TOTP_PENDING_MINUTES", "5"))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted (werkzeug's
    # ProxyFix); 0 = served directly (the headers are ignored: a client could forge them).
    PROXY_FIX = int(os.environ.get("PROXY_FIX", "0"))
    REQUIRE_SECURE_SETTINGS = False
    HSTS_SECONDS = 0  # production: a year (served over https only)
    FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR = False
    # Unfiltered lists the planner expects to exceed this many rows (the whole register, a large
    # region) show PostgreSQL's estimate, labelled, instead of an exact count on every page.
    FILTER_OPTIONS_TTL = int(os.environ.get("FILTER_OPTIONS_TTL", "60"))  # seconds, per locale
    # A streaming read replica (hot standby) for the live reports and analytics (profreg/replica.py);
    # unset: everything reads the primary.
    DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL") or None
    # Seconds a region's or the country's figures (dashboard counts, data-currency ranking, live monthly
    # report, CPD assessment) are kept, for every process on PostgreSQL (profreg/memo.py); 0: always
    # live. An organization's figures are always live.
    BIG_SCOPE_CACHE_SECONDS = int(os.environ.get("BIG_SCOPE_CACHE_SECONDS", "60"))
    # How many kept figures the whole register refreshes at once (profreg/memo.py): the database cores
    # refreshes may take from the pages. Raise it with the database's cores (docs/operations.md).
    SHARED_FIGURES_REFRESH_SLOTS = int(os.environ.get("SHARED_FIGURES_REFRESH_SLOTS", "1"))
    # PostgreSQL planner setting for the app's sessions (profreg._postgres_settings); empty: the server's.
    POSTGRES_RANDOM_PAGE_COST = os.environ.get("POSTGRES_RANDOM_PAGE_COST", "1.1")
    # Parallel workers per query for the app's sessions (profreg._postgres_settings); empty: the server's.
    POSTGRES_PARALLEL_WORKERS = os.environ.get("POSTGRES_PARALLEL_WORKERS", "0")
    # ... and for the COPY of a file written in the background (exports/pgcopy.py); empty: the sessions'.
    EXPORT_PARALLEL_WORKERS = os.environ.get("EXPORT_PARALLEL_WORKERS", "2")
    ESTIMATED_COUNT_THRESHOLD = int(os.environ.get("ESTIMATED_COUNT_THRESHOLD", "10000"))
    # A searched or filtered list the planner expects to exceed this many rows shows its estimate
    # ("about"), not an exact count of every match; a short first page is counted exactly. -1: always exact.
    ESTIMATED_FILTERED_COUNT_THRESHOLD = int(os.environ.get("ESTIMATED_FILTERED_COUNT_THRESHOLD", "5000"))
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
    # Operations (docs/operations.md): request log lines as JSON or text, the scraper's token for /metrics.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    REQUEST_LOG = os.environ.get("REQUEST_LOG", "1") == "1"
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    # The API (docs/api.md): requests a token may make (Flask-Limiter notation), page sizes.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/minute")
    RATELIMIT_HEADERS_ENABLED = True
    TESTING = False


class ProductionConfig(DefaultConfig):
    """PostgreSQL (DATABASE_URL) + Redis (REDIS_URL); secure cookies, https URLs. ``create_app`` refuses
    to build without a real ``SECRET_KEY`` (``profreg/settings_check.py``). Behind a reverse proxy set
    ``PROXY_FIX`` to the number of proxies in front (docs/security.md): the client's address (sign-in
    limits) and the https scheme are then read from ``X-Forwarded-For`` / ``X-Forwarded-Proto``."""

    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # never the development fallback
    REQUIRE_SECURE_SETTINGS = True
    TOTP_REQUIRED_ROLES = os.environ.get("TOTP_REQUIRED_ROLES", "admin,ministry,region")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))  # browsers keep to https
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")


class TestingConfig(DefaultConfig):
    """Used by pytest; the database URL is set by tests/conftest.py."""

    TESTING = True
    SECRET_KEY = "test"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    REDIS_URL = None
    MAIL_SERVER = None
    WTF_CSRF_ENABLED = True
    REQUEST_LOG = False
    PASSWORD_HASH_PROFILE = "CHEAPEST"  # argon2's test-only profile: the suite hashes hundreds of passwords
    BIG_SCOPE_CACHE_SECONDS = 0  # figures always live; tests/panel/test_dashboard.py sets it to test the memo
    # The suite moves the injectable clock by hours, days and months with clients signed in: sessions
    # do not expire here; tests/panel/test_security_sessions.py sets the real limits (30 min, 12 h).
    SESSION_IDLE_MINUTES = 10 * 365 * 24 * 60
    SESSION_MAX_HOURS = 10 * 365 * 24


CONFIGS = {"default": DefaultConfig, "production": ProductionConfig, "testing": TestingConfig}
