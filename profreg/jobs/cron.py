"""RQ cron registration: ``TZ=Asia/Almaty rq cron -u $REDIS_URL profreg.jobs.cron``.

Cron fields are evaluated in the cron process's local time zone, hence ``TZ=Asia/Almaty``.
* the daily certificate sweep at ``SWEEP_HOUR`` (default 02:00 Almaty). RQ cron cannot attach a
  ``Retry``, so cron enqueues ``trigger_sweep``, a tiny job that enqueues the real sweep with
  ``Retry`` (back-off) on the same queue;
* the mail outbox every ``MAIL_OUTBOX_MINUTES`` minutes (default 10): failed mails are retried;
* expired background exports (files and records) removed every hour at minute 17;
* exports asked for while Redis was unreachable queued every 5 minutes (docs/operations.md);
* the reporting reminders every day at ``REMINDERS_HOUR`` (default 08:00 Almaty): coordinators before
  and after due dates, heads and HR chiefs weekly; each reminder is sent once (docs/reporting.md).
Settings come from the environment, like the rest of the configuration (``config/``).
"""
from __future__ import annotations

import os

from rq import cron

from ..certificates.jobs import deliver_mail, trigger_sweep
from ..reporting.jobs import reminders_job
from .exports import purge_exports, resume_queued_exports

QUEUE = os.environ.get("RQ_QUEUE", "profreg")
SWEEP_HOUR = int(os.environ.get("SWEEP_HOUR", "2"))
MAIL_OUTBOX_MINUTES = int(os.environ.get("MAIL_OUTBOX_MINUTES", "10"))
REMINDERS_HOUR = int(os.environ.get("REMINDERS_HOUR", "8"))

cron.register(trigger_sweep, queue_name=QUEUE, cron=f"0 {SWEEP_HOUR} * * *", name="profreg-certificate-sweep",
              job_timeout=300, failure_ttl=30 * 24 * 3600)
cron.register(deliver_mail, queue_name=QUEUE, cron=f"*/{MAIL_OUTBOX_MINUTES} * * * *", name="profreg-mail-outbox",
              job_timeout=1800, failure_ttl=30 * 24 * 3600)
cron.register(purge_exports, queue_name=QUEUE, cron="17 * * * *", name="profreg-export-purge", job_timeout=600,
              failure_ttl=30 * 24 * 3600)
cron.register(resume_queued_exports, queue_name=QUEUE, cron="*/5 * * * *", name="profreg-export-resume",
              job_timeout=300, failure_ttl=30 * 24 * 3600)
cron.register(reminders_job, queue_name=QUEUE, cron=f"0 {REMINDERS_HOUR} * * *", name="profreg-reporting-reminders",
              job_timeout=600, failure_ttl=30 * 24 * 3600)
