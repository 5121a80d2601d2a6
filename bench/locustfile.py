"""The mixed workload of the load test (``python -m bench load``): HR users, coordinators and the
association, signed in as the demo users, each with the pages of their day. ``LOAD_MODE=floor`` makes
every user ask only for the page floor (the same concurrency; the throughput the mix is compared with).

Read-only: the benchmark database is reused between runs (edits are measured by the unit suite).
Only 127.0.0.1 is ever addressed (the host is checked).
"""
from __future__ import annotations

import os
import random
import re
from urllib.parse import urlsplit

from locust import HttpUser, between, constant, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "Demo-Register-2026")
MODE = os.environ.get("LOAD_MODE", "mixed")
SURNAMES = [s for s in os.environ.get("LOAD_SURNAMES", "Ах,Бе,Ка,Ну,Се").split(",") if s]
WORKER_IDS = [int(x) for x in os.environ.get("LOAD_WORKER_IDS", "1").split(",") if x]


@events.test_start.add_listener
def _local_only(environment, **_kw):
    host = urlsplit(environment.host or "").hostname
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"the load test addresses 127.0.0.1 only, not {host}")


_SIGNED_IN = {"users": 0}


def _signed_in(environment) -> None:
    """Once every user of the run has signed in, the figures start again: sign-ins (password hashing,
    deliberately slow: 50 of them are seconds of CPU) still running after the last user was spawned
    (``--reset-stats``) are not the load of a working day, and the pages queued behind them were."""
    _SIGNED_IN["users"] += 1
    target = getattr(environment.runner, "target_user_count", None)
    if target and _SIGNED_IN["users"] == target:
        environment.stats.reset_all()


class _Signed(HttpUser):
    abstract = True
    # A person reads the page before the next click (LOAD_WAIT=0: no pause, for the throughput phases).
    wait_time = constant(0) if os.environ.get("LOAD_WAIT") == "0" else between(1, 3)
    email = ""

    def on_start(self):
        page = self.client.get("/login", name="login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        self.client.post("/login", data={"email": self.email, "password": PASSWORD,
                                         "csrf_token": token.group(1) if token else ""},
                         name="login", allow_redirects=False)
        _signed_in(self.environment)

    def page(self, path, name):
        with self.client.get(path, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}")


class Floor(_Signed):
    """Only the page floor (one indexed query in the admin layout)."""
    email = "ministry@profreg.kz"
    weight = 1 if MODE == "floor" else 0

    @task
    def floor(self):
        self.page("/admin/bench-floor/", "page floor")


class HR(_Signed):
    email = "hr@profreg.kz"
    weight = 0 if MODE == "floor" else 6

    @task(4)
    def workers(self):
        self.page("/admin/workers/", "hr: workers list")

    @task(3)
    def search(self):
        self.page(f"/admin/workers/?search={random.choice(SURNAMES)}", "hr: surname search")

    @task(3)
    def card(self):
        self.page(f"/admin/workers/details/?id={random.choice(WORKER_IDS)}", "hr: worker card")

    @task(2)
    def certificates(self):
        self.page("/admin/certificates/", "hr: certificates")

    @task(1)
    def dashboard(self):
        self.page("/admin/", "hr: dashboard")

    @task(1)
    def export(self):
        self.page("/admin/certificates/export/csv/", "hr: certificates csv export")


class Coordinator(_Signed):
    weight = 0 if MODE == "floor" else 3

    def on_start(self):
        self.email = random.choice(["region@profreg.kz", "ministry@profreg.kz"])
        super().on_start()

    @task(3)
    def workers(self):
        self.page("/admin/workers/", "coordinator: workers list")

    @task(2)
    def dashboard(self):
        self.page("/admin/", "coordinator: dashboard")

    @task(1)
    def monitoring(self):
        self.page("/admin/monitoring/", "coordinator: monthly monitoring")

    @task(1)
    def data_currency(self):
        self.page("/admin/data-currency/", "coordinator: data currency")


class Association(_Signed):
    email = "association@profreg.kz"
    weight = 0 if MODE == "floor" else 1

    @task
    def cpd(self):
        self.page("/admin/cpd_assessment/", "association: CPD assessment")
