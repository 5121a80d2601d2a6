"""Queue wiring: ``get_queue()``, the job runtime (app context in the worker), RQ cron registration.

* With ``REDIS_URL``: an RQ ``Queue(RQ_QUEUE)`` on that Redis; ``rq worker --with-scheduler`` runs the
  jobs (``--with-scheduler`` is needed for retry back-off), ``rq cron profreg.jobs.cron`` enqueues the
  daily sweep (run it with ``TZ=Asia/Almaty``).
* Without ``REDIS_URL``: ``InlineQueue`` runs the *same job functions* in the calling process, right
  away. RQ's own synchronous mode (``Queue(is_async=False)``) still needs a Redis server for the job
  hash, so it cannot serve a machine without Redis; ``InlineQueue`` mirrors its behaviour (the job
  runs at enqueue time, an exception marks the job failed and is not raised to the caller).
"""
from __future__ import annotations

from .queue import InlineJob, InlineQueue, enqueue, get_queue, redis_connection

__all__ = ["InlineJob", "InlineQueue", "enqueue", "get_queue", "redis_connection"]
