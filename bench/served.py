"""WSGI module for the load test: the real app on the benchmark database (``BENCH_DB``) with the
floor routes of ``bench.web`` (``gunicorn -c config/gunicorn.conf.py bench.served:app``)."""
import os

from .web import make_app

app = make_app(os.environ["BENCH_DB"])
