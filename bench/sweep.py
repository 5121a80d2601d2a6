"""Certificate sweep benchmark: the set-based sweep against a naive per-row ORM loop over the same data.

``run(workers)`` assumes the demo dataset is loaded in ``url`` (default: ``DATABASE_URL``, else the
bench database of that size). Both variants run inside a transaction that is rolled back, so the data
is left as found and both start from the same state. With ``fresh`` (default) the demo's blocks are undone
first (inside the transaction, not timed), so both do the work of a first sweep: block, warn, announce. Prints both times and the ratio (target: >= 20x,
set-based < 30 s at 300,000 workers).

    python -c "from bench.sweep import run; run(300000)"
    python -m bench.sweep --workers 300000 [--naive-sample 20000]

``--naive-sample N`` runs the naive loop over the first N workers only and extrapolates linearly
(the result is labelled as extrapolated). By default it runs over every worker up to 20,000 and over a
sample of 20,000 above that: the naive loop takes about 7 ms per worker on the reference machine, i.e.
35 minutes at 300,000.
"""
from __future__ import annotations

import argparse
import os
import re
import time

NAIVE_DEFAULT_SAMPLE = 20_000


def naive_sweep(today, limit=None) -> dict:
    """The same rules, one worker at a time through the ORM (what the sweep must not be)."""
    from sqlalchemy import select

    from profreg import clock
    from profreg.audit.models import AuditLog
    from profreg.auth.models import User
    from profreg.certificates.models import Certificate
    from profreg.certificates.services import BLOCK_REASON
    from profreg.extensions import db
    from profreg.notifications.models import MailOutbox, Notice, Notification
    from profreg.reference.models import Specialty
    from profreg.workers.models import Employment, Worker

    now = clock.utcnow_naive()
    parents = dict(db.session.execute(select(Specialty.id, Specialty.parent_id)).all())
    q = select(Worker.id).order_by(Worker.id)
    if limit:
        q = q.limit(limit)
    ids = db.session.execute(q).scalars().all()
    counts = {"warned": 0, "blocked": 0, "unblocked": 0, "workers": len(ids)}
    for i, wid in enumerate(ids, 1):
        w = db.session.get(Worker, wid)
        certs = db.session.query(Certificate).filter(Certificate.worker_id == wid).all()
        eps = db.session.query(Employment).filter(Employment.worker_id == wid).all()
        current = [e for e in eps if e.current_on(today)]
        valid = [c for c in certs if c.valid_on(today)]
        for e in current:  # per post: a certificate valid today for its specialty (or the parent)
            if not e.position.is_clinical:
                continue
            admitted = any(e.specialty_id is None or c.specialty_id in (e.specialty_id, parents.get(e.specialty_id))
                           for c in valid)
            if admitted and e.blocked_at is not None:
                e.blocked_at = e.blocked_certificate_id = None
            elif not admitted and e.blocked_at is None:
                e.blocked_at = now
        blocked_post = any(e.blocked_at is not None for e in current)
        events = []
        if w.status == "blocked" and w.blocked_reason == BLOCK_REASON and not blocked_post:
            w.status, w.blocked_reason, w.unblocked_at = "active", None, now
            counts["unblocked"] += 1
            events.append(("worker_unblocked", f"unblock:{wid}:{now}", None, "unblock"))
        elif w.status == "active" and blocked_post:
            w.status, w.blocked_reason, w.blocked_at = "blocked", BLOCK_REASON, now
            counts["blocked"] += 1
            events.append(("worker_blocked", f"block:{wid}:{now}", None, "block"))
        for c in valid:
            if c.expiring_on(today):
                events.append(("cert_expiring", f"cert:{c.id}", c.id, None))
        if not events:
            continue
        hr = (db.session.query(User).filter(User.organization_id.in_([e.organization_id for e in current]),
                                            User.role.in_(("hr", "hr_chief")), User.active.is_(True)).all()
              if current else [])
        for kind, key, cert_id, action in events:
            if db.session.query(Notice).filter_by(kind=kind, event_key=key).first() is not None:
                continue
            if kind == "cert_expiring":
                counts["warned"] += 1
            n = Notice(kind=kind, event_key=key, worker_id=wid, certificate_id=cert_id, batch="naive", created_at=now)
            db.session.add(n)
            db.session.flush()
            for u in hr:
                db.session.add(Notification(notice_id=n.id, user_id=u.id, created_at=now))
            if w.email:
                db.session.add(MailOutbox(kind=kind, notice_id=n.id, recipient=w.email, worker_id=wid,
                                          locale=w.locale or "ru", created_at=now, next_attempt_at=now))
            if action:
                db.session.add(AuditLog(at=now, action=action, table_name="worker", record_id=wid, worker_id=wid,
                                        organization_id=current[0].organization_id if current else None,
                                        detail=BLOCK_REASON, dedupe_key=f"naive:{key}"))
        if i % 1000 == 0:
            db.session.flush()
            db.session.expunge_all()
    db.session.flush()
    return counts


def _reset(fresh: bool) -> None:
    """Inside the (rolled-back) transaction: undo the demo's blocks, so the sweep does a first run's work."""
    from sqlalchemy import text

    from profreg.extensions import db

    if fresh:
        db.session.execute(text("UPDATE worker SET status = 'active', blocked_reason = NULL, blocked_at = NULL "
                                "WHERE status = 'blocked'"))
        db.session.execute(text("UPDATE employment SET blocked_at = NULL, blocked_certificate_id = NULL "
                                "WHERE blocked_at IS NOT NULL"))


def run(workers: int | None = None, table=None, url: str | None = None, naive_sample: int | None = None,
        fresh: bool = True) -> dict:
    """Time the set-based sweep and the naive loop on the loaded dataset; print and return the figures."""
    from sqlalchemy import text

    from profreg import clock, create_app
    from profreg.certificates import services
    from profreg.extensions import db

    if url is None:
        url = os.environ.get("DATABASE_URL")
    if url is None:
        from .common import db_url

        url = db_url(workers)
    url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "MAIL_SERVER": None})
    out = {}
    with app.app_context():
        today = clock.today()
        n = db.session.execute(text("SELECT count(*) FROM worker")).scalar()
        db.session.rollback()
        _reset(fresh)
        t0 = time.perf_counter()
        counts = services.sweep(today)  # no commit: one transaction, rolled back below
        db.session.flush()
        t_set = time.perf_counter() - t0
        db.session.rollback()
        t0 = time.perf_counter()
        if naive_sample is None and n > NAIVE_DEFAULT_SAMPLE:
            naive_sample = NAIVE_DEFAULT_SAMPLE
        naive = naive_sweep(today, limit=naive_sample)
        t_naive = time.perf_counter() - t0
        db.session.rollback()
        db.session.remove()
        _vacuum(db.engine)
        extrapolated = naive["workers"] < n
        t_naive_full = t_naive * n / max(naive["workers"], 1) if extrapolated else t_naive
        ratio = t_naive_full / t_set if t_set else float("inf")
        out = {"workers": n, "set_based_s": t_set, "naive_s": t_naive_full, "naive_measured_s": t_naive,
               "naive_workers": naive["workers"], "ratio": ratio, "counts": counts.as_dict(), "naive_counts": naive}
    note = f"(naive over {naive['workers']:,} workers, extrapolated)" if extrapolated else ""
    lines = [
        (f"certificate sweep, set-based ({n:,} workers)", f"{t_set:.2f} s",
         "warned {warned:,} blocked {blocked:,} unblocked {unblocked:,}".format(**counts.as_dict())),
        ("certificate sweep, naive per-row ORM loop", f"{t_naive_full:.2f} s", note),
        ("certificate sweep, ratio naive / set-based", f"{ratio:.1f}x", "target >= 20x, set-based < 30 s"),
    ]
    for name, value, extra in lines:
        if table is not None:
            table.add(name, value, extra)
        else:
            print(f"{name:<50} {value:>12}  {extra}")
    return out


def _vacuum(engine) -> None:
    """The sweeps' rolled-back writes leave dead rows (400,000 in ``worker`` at 300,000 workers) that
    slow every later benchmark of the same run; autovacuum, on in production (docs/operations.md),
    would clear them, but this machine's server may have it off: cleared here."""
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__.split("\n")[0])
    p.add_argument("--workers", type=int, default=300_000)
    p.add_argument("--url", default=None)
    p.add_argument("--naive-sample", type=int, default=None)
    a = p.parse_args(argv)
    run(a.workers, url=a.url, naive_sample=a.naive_sample)


if __name__ == "__main__":
    main()
