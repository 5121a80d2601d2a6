"""``python -m bench load --workers 300000 --users 50 --duration 120``: the register under many users.

gunicorn (``config/gunicorn.conf.py``, production-like) serves the real app on the benchmark
database; Locust (headless, ``bench/locustfile.py``) sends a mixed workload of roles from the same
machine, to 127.0.0.1 only. Three phases with the same number of users:

1. **floor throughput**: every user asks only for the page floor, without pauses (a third of
   ``--duration``, at least 20 s);
2. **mixed throughput**: the mixed workload without pauses (as long) → the ratio of the mix's
   requests/s to the floor's (target ≥ 1/3);
3. **mixed, as people use it** (``--duration``): 1–3 s between clicks → per page p50/p95/p99 and
   errors, against the page's single-user p95 measured just before (target ≤ 4×; 0 errors).
"""
from __future__ import annotations

import csv
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

from .common import ROOT, Table, ensure_dataset, stats

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _samples(url_db: str) -> tuple[list[int], list[str]]:
    """Worker ids in the hr demo user's organization (its cards) and surname prefixes that find some."""
    eng = create_engine(url_db)
    with eng.connect() as c:
        ids = c.execute(text(
            "SELECT e.worker_id FROM employment e JOIN \"user\" u ON u.organization_id = e.organization_id "
            "WHERE u.email = 'hr@profreg.kz' AND e.end_date IS NULL ORDER BY e.worker_id LIMIT 50")).scalars().all()
        surnames = c.execute(text(
            "SELECT left(surname, 3) FROM worker WHERE id = ANY(:ids)"), {"ids": list(ids)}).scalars().all()
    eng.dispose()
    return list(ids), sorted(set(surnames))[:8]


def _forget_figures(url_db: str) -> None:
    """No figure kept by an earlier run (``profreg/memo.py``, table ``shared_figure``): each run computes
    and refreshes its own, whatever keep period the earlier one had."""
    eng = create_engine(url_db)
    with eng.begin() as c:
        c.execute(text("DELETE FROM shared_figure"))
    eng.dispose()


class _Client:
    def __init__(self, base: str, email: str, password: str = "Demo-Register-2026"):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        data = urllib.parse.urlencode({"email": email, "password": password,
                                       "csrf_token": token.group(1) if token else ""}).encode()
        self.opener.open(base + "/login", data=data).read()

    def ms(self, path: str) -> float:
        t0 = time.perf_counter()
        with self.opener.open(self.base + path) as resp:
            resp.read()
            assert resp.status == 200, (path, resp.status)
        return (time.perf_counter() - t0) * 1000


def _single_user(base: str, ids: list[int], prefixes: list[str], n: int, warm: int = 2) -> dict[str, float]:
    """Each page of the mix asked ``n`` times in a row by one signed-in user at a time: p95 in ms. The
    coordinator's pages alternate the region's and the ministry's coordinator, as the load test's
    coordinators do (each signs in as one of the two)."""
    hr, region, ministry, assoc = (_Client(base, e) for e in ("hr@profreg.kz", "region@profreg.kz",
                                                               "ministry@profreg.kz", "association@profreg.kz"))

    class _Both:
        def __init__(self):
            self.i = 0

        def ms(self, path):
            self.i += 1
            return (region if self.i % 2 else ministry).ms(path)

    coord = _Both()
    pages = {
        "page floor": (region, lambda i: "/admin/bench-floor/"),
        "hr: workers list": (hr, lambda i: "/admin/workers/"),
        "hr: surname search": (hr, lambda i: f"/admin/workers/?search={urllib.parse.quote(prefixes[i % len(prefixes)])}"),
        "hr: worker card": (hr, lambda i: f"/admin/workers/details/?id={ids[i % len(ids)]}"),
        "hr: certificates": (hr, lambda i: "/admin/certificates/"),
        "hr: dashboard": (hr, lambda i: "/admin/"),
        "hr: certificates csv export": (hr, lambda i: "/admin/certificates/export/csv/"),
        "coordinator: workers list": (coord, lambda i: "/admin/workers/"),
        "coordinator: dashboard": (coord, lambda i: "/admin/"),
        "coordinator: monthly monitoring": (coord, lambda i: "/admin/monitoring/"),
        "coordinator: data currency": (coord, lambda i: "/admin/data-currency/"),
        "association: CPD assessment": (assoc, lambda i: "/admin/cpd_assessment/"),
    }
    out = {}
    for name, (client, path) in pages.items():
        for i in range(warm):  # every gunicorn worker's caches (filter options, figures) warm, as under load
            client.ms(path(i))
        out[name] = stats([client.ms(path(i)) for i in range(n)])[1]
    return out


def _locust(base: str, users: int, seconds: int, mode: str, wait: bool, env: dict, out: Path) -> dict:
    prefix = out / f"{mode}-{'wait' if wait else 'nowait'}"
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "-u", str(users),
           "-r", str(max(1, users // 5)), "-t", f"{seconds}s", "--host", base, "--csv", str(prefix),
           "--only-summary", "--stop-timeout", "10",
           # figures from when every user is signed in: the ramp-up's 50 sign-ins in 5 s (password
           # hashing, deliberately slow) are not the load of a working day (docs/performance.md)
           "--reset-stats"]
    run_env = {**os.environ, **env, "LOAD_MODE": mode, "LOAD_WAIT": "1" if wait else "0"}
    proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=seconds + 120)
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    if proc.returncode not in (0, 1):  # 1: some requests failed (reported below)
        raise RuntimeError(proc.stderr[-3000:])
    return {r["Name"]: r for r in rows}


def run(workers: int, users: int, duration: int, requests: int = 40) -> int:
    url, _ = ensure_dataset(workers)
    ids, prefixes = _samples(url)
    _forget_figures(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    out = ROOT / "test-artifacts" / "load"
    out.mkdir(parents=True, exist_ok=True)
    env = {"BENCH_DB": url, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_ACCESS_LOG": "/dev/null",
           "REQUEST_LOG": os.environ.get("LOAD_REQUEST_LOG", "0"), "PROFREG_CONFIG": "default", "DATABASE_URL": url}
    server_log = (out / "gunicorn.log").open("w")
    server = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "config" / "gunicorn.conf.py"),
                               "bench.served:app"], cwd=ROOT, env={**os.environ, **env}, stdout=server_log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    table = Table()
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.5)
        gw = os.environ.get("GUNICORN_WORKERS") or str(os.cpu_count() * 2 + 1)
        print(f"gunicorn on {base}: {gw} workers; {workers:,} workers in the register; "
              f"{users} users; {duration} s", flush=True)
        single = _single_user(base, ids, prefixes, requests, warm=6 * int(gw))
        locust_env = {"LOAD_WORKER_IDS": ",".join(map(str, ids)), "LOAD_SURNAMES": ",".join(prefixes)}
        phase = max(20, duration // 3)
        floor = _locust(base, users, phase, "floor", False, locust_env, out)
        mixed_max = _locust(base, users, phase, "mixed", False, locust_env, out)
        mixed = _locust(base, users, duration, "mixed", True, locust_env, out)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()

    floor_rps = float(floor["Aggregated"]["Requests/s"])
    mix_rps = float(mixed_max["Aggregated"]["Requests/s"])
    errors = sum(int(r["Failure Count"]) for r in mixed.values()) + sum(
        int(r["Failure Count"]) for r in mixed_max.values())
    table.add("throughput: page floor, no pauses", f"{floor_rps:.1f} req/s", f"{users} users, {phase} s")
    table.add("throughput: mixed workload, no pauses", f"{mix_rps:.1f} req/s",
              f"ratio to the floor {mix_rps / floor_rps:.2f} (target >= 0.33)")
    worst = 0.0
    for name, row in sorted(mixed.items()):
        if name == "Aggregated" or name == "login":
            continue
        p95 = float(row["95%"])
        base_p95 = single.get(name)
        ratio = p95 / base_p95 if base_p95 else float("nan")
        worst = max(worst, ratio if base_p95 else 0)
        table.add(f"[under load] {name}", f"{row['Request Count']} req, p50 {row['50%']} / p95 {row['95%']} / "
                  f"p99 {row['99%']} ms", f"single-user p95 {base_p95:.0f} ms, x{ratio:.1f} (target <= 4)"
                  + (f", {row['Failure Count']} errors" if int(row["Failure Count"]) else ""))
    agg = mixed["Aggregated"]
    table.add("mixed workload as people use it", f"{float(agg['Requests/s']):.1f} req/s, {agg['Request Count']} req",
              f"errors {errors} (target 0); worst p95 ratio x{worst:.1f}")
    table.print()
    return 0 if errors == 0 else 1
