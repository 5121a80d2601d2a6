"""``get_queue()``: RQ on Redis when ``REDIS_URL`` is set, otherwise an inline runner (see package doc)."""
from __future__ import annotations

import logging
import traceback
import uuid

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

log = logging.getLogger(__name__)

#: Retry back-off of failed jobs, seconds (RQ Retry; needs ``rq worker --with-scheduler``).
DEFAULT_RETRY_INTERVALS = (60, 600, 3600)


class InlineJob:
    """What ``InlineQueue.enqueue`` returns: the shape of the bits of ``rq.job.Job`` we use."""

    def __init__(self, func, args, kwargs):
        self.id = f"inline-{uuid.uuid4().hex[:12]}"
        self.func_name = f"{func.__module__}.{func.__name__}"
        self.args, self.kwargs = args, kwargs
        self._status, self._result, self.exc_string = "queued", None, None

    def get_status(self, refresh: bool = True) -> str:
        return self._status

    def return_value(self, refresh: bool = False):
        return self._result

    @property
    def is_failed(self) -> bool:
        return self._status == "failed"

    @property
    def is_finished(self) -> bool:
        return self._status == "finished"


class InlineQueue:
    """Runs a job function at once in this process (no Redis). Job options are accepted and ignored."""

    name = "inline"
    is_async = False

    def enqueue(self, func, *args, **kwargs):
        for opt in ("retry", "job_timeout", "result_ttl", "failure_ttl", "ttl", "description", "job_id", "meta"):
            kwargs.pop(opt, None)
        job = InlineJob(func, args, kwargs)
        try:
            job._result = func(*args, **kwargs)
            job._status = "finished"
        except Exception:  # noqa: BLE001 - like RQ's sync mode: the job fails, the caller goes on
            job._status = "failed"
            job.exc_string = traceback.format_exc()
            log.exception("inline job %s failed", job.func_name)
        return job


def redis_connection(url: str | None = None):
    # Short timeouts: a Redis that went away must cost a request a second or two, not a minute.
    return Redis.from_url(url or current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=10)


def queue_available() -> bool:
    """Can jobs be queued now? True without Redis (they run inline); else Redis answers a PING."""
    if not current_app.config.get("REDIS_URL"):
        return True
    try:
        return bool(redis_connection().ping())
    except RedisError:
        log.warning("the job queue (Redis) is unreachable")
        return False


def job_exists(job_id: str) -> bool:
    """Does RQ still hold the job ``job_id`` (queued, scheduled for a retry, running or failed)? A job
    whose worker was killed stays "started" until RQ's maintenance retries it (``Retry``) or fails it."""
    try:
        Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return False
    return True


def get_queue(name: str | None = None):
    """The job queue: ``rq.Queue`` on ``REDIS_URL``, or ``InlineQueue`` when there is no Redis."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return InlineQueue()

    return Queue(name or current_app.config.get("RQ_QUEUE", "profreg"), connection=redis_connection(url))


def retry_policy():
    intervals = list(current_app.config.get("JOB_RETRY_INTERVALS") or DEFAULT_RETRY_INTERVALS)
    return Retry(max=len(intervals), interval=intervals)


def enqueue(func, *args, **kwargs):
    """Enqueue with the house defaults: retry with back-off, failed jobs kept 30 days."""
    kwargs.setdefault("retry", retry_policy())
    kwargs.setdefault("job_timeout", 3600)
    kwargs.setdefault("result_ttl", 7 * 24 * 3600)
    kwargs.setdefault("failure_ttl", 30 * 24 * 3600)
    return get_queue().enqueue(func, *args, **kwargs)
