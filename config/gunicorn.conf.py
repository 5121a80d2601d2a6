"""gunicorn settings for production (docs/operations.md):

    .venv/bin/gunicorn -c config/gunicorn.conf.py "app:app"

Every value can be overridden by the environment variable named beside it.
"""
import multiprocessing
import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind the reverse proxy
# Synchronous workers: 2 per core + 1 (gunicorn's rule of thumb for I/O-bound apps on PostgreSQL).
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request longer than this is killed and logged; big exports run in the queue, not in a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then (a slow leak never becomes an outage); jitter avoids all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
# A wide jitter: workers that served alike would otherwise all restart within seconds of each other.
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 2)))
# The app is imported once, in the master, before the workers fork: a recycled worker starts in
# milliseconds instead of importing Flask-Admin, WeasyPrint and the catalogs again (seconds of CPU each;
# in the load test five restarting together stalled every page of a 2-core machine for ~20 s).
# ``post_fork`` gives each worker its own database connections.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# The access log (stdout) carries the request id the app logs its own line with (profreg.request).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
access_log_format = ('%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s '
                     'agent="%(a)s"')
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Several workers share /metrics through prometheus_client's multiprocess mode: an empty
    directory at each start (stale files would add a previous run's counts)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    """A worker never uses a database connection the master opened before the fork (with
    ``preload_app``): each engine's pool is replaced, leaving the master's connections to it."""
    app = worker.app.wsgi()
    extensions = getattr(app, "extensions", None) or {}
    sqlalchemy = extensions.get("sqlalchemy")
    if sqlalchemy is not None:
        with app.app_context():
            for engine in sqlalchemy.engines.values():
                engine.dispose(close=False)
    replica = extensions.get("profreg_replica")
    if replica is not None:
        replica.dispose(close=False)
