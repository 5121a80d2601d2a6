"""Prometheus metrics of the register (``/metrics``, docs/operations.md).

Per request: ``profreg_http_requests_total{method,endpoint,status}`` and
``profreg_http_request_duration_seconds{endpoint}``. Per refresh of a kept figure (``profreg/memo.py``):
``profreg_shared_figure_refresh_seconds{memo}`` and ``profreg_shared_figure_refresh_wait_seconds{memo}``
(the wait for a refresh slot: when it grows, the slots are too few). At each scrape, read from where they live:
``profreg_queue_jobs{queue,state}`` (RQ: queued, started, failed), ``profreg_job_last_run_*{kind}``
(the latest sweep / mail run: its figures, failures and finish time).

Under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, cleared at
each start): the request figures of all workers are then summed at scrape (prometheus_client's
multiprocess mode).
"""
from __future__ import annotations

import os
from datetime import timezone

from flask import current_app
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ..signals import figure_refreshed
from .services import last_runs, queue_figures

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("profreg_http_requests", "HTTP requests served", ("method", "endpoint", "status"),
                   registry=None if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else REGISTRY)
LATENCY = Histogram("profreg_http_request_duration_seconds", "Time to serve a request", ("endpoint",),
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                    registry=None if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else REGISTRY)


_SHARED = None if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else REGISTRY
REFRESH_WAIT = Histogram("profreg_shared_figure_refresh_wait_seconds",
                         "Time a kept figure waited for a refresh slot", ("memo",),
                         buckets=(0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60), registry=_SHARED)
REFRESH_TIME = Histogram("profreg_shared_figure_refresh_seconds", "Time to refresh a kept figure", ("memo",),
                         buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=_SHARED)


@figure_refreshed.connect
def _figure_refreshed(memo: str, waited: float = 0.0, seconds: float = 0.0, **_kw) -> None:
    REFRESH_WAIT.labels(memo).observe(waited)
    REFRESH_TIME.labels(memo).observe(seconds)


def observe(method: str, endpoint: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, endpoint, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)


class _LiveFigures(Collector):
    """Queue lengths and the latest job runs, read at scrape time (inside the scraping request)."""

    def collect(self):
        queues = GaugeMetricFamily("profreg_queue_jobs", "Jobs per RQ queue and state", labels=("queue", "state"))
        fields = ("warned", "blocked", "unblocked", "notifications", "mails_sent", "failures")
        runs = {f: GaugeMetricFamily(f"profreg_job_last_run_{f}", f"The latest job run's {f.replace('_', ' ')}",
                                     labels=("kind",)) for f in fields}
        finished = GaugeMetricFamily("profreg_job_last_run_finished_timestamp_seconds",
                                     "When the latest job run finished (UTC)", labels=("kind",))
        failed = GaugeMetricFamily("profreg_job_last_run_failed", "1 when the latest job run failed",
                                   labels=("kind",))
        try:
            for name, states in queue_figures().items():
                for state, count in states.items():
                    queues.add_metric((name, state), count)
        except Exception:  # noqa: BLE001 - Redis down: the request figures are still served
            current_app.logger.warning("metrics: the queue is unreachable", exc_info=True)
        for kind, run in last_runs().items():
            for f in fields:
                runs[f].add_metric((kind,), run[f] or 0)
            failed.add_metric((kind,), 1 if run["state"] == "failed" else 0)
            if run["finished_at"]:
                finished.add_metric((kind,), run["finished_at"].replace(tzinfo=timezone.utc).timestamp())
        yield queues
        yield from runs.values()
        yield finished
        yield failed




def scrape_registry() -> CollectorRegistry:
    """The registry to render: this process's (or, in multiprocess mode, every worker's) request
    figures plus the live figures of the current app."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(_LiveFigures())
    return registry


class _Forward(Collector):
    def __init__(self, source):
        self.source = source

    def collect(self):
        yield from self.source.collect()
