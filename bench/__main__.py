"""``python -m bench all --workers 300000``: national-scale figures in one run.

Builds (or reuses) the demo dataset on PostgreSQL — one database per size, ``profreg_bench_<N>`` —
then prints a table: panel timings against a bare indexed-query route (the floor) and their ratios,
the same at the small size (scaling ratio), searches, filters, details, dashboard, the certificate
sweep against a naive per-row loop, the monthly report, the streamed xlsx export against PostgreSQL
COPY, and the demo generation time. ``--workers 3000`` is the quick mode (< 60 s).
"""
from __future__ import annotations

import argparse
import importlib
import platform
import time

from .common import Table, ensure_dataset


def _optional(module: str):
    try:
        return importlib.import_module(f"bench.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bench.{module}":
            raise
        return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["all", "panel", "sweep", "monitoring", "export", "plans", "dashboard", "load",
                                    "import", "api", "slowpaths", "replica"], nargs="?",
                   default="all", help="'plans' prints EXPLAIN ANALYZE of the list and search queries (not in 'all')")
    p.add_argument("--workers", type=int, default=300_000, help="size of the national dataset")
    p.add_argument("--small", type=int, default=3_000, help="size of the small dataset (scaling ratio)")
    p.add_argument("--requests", type=int, default=50, help="requests per timed page")
    p.add_argument("--rebuild", action="store_true", help="regenerate the datasets")
    p.add_argument("--users", type=int, default=50, help="load: simultaneous users")
    p.add_argument("--duration", type=int, default=120, help="load: seconds of the mixed workload as people use it")
    p.add_argument("--rows", type=int, default=100_000, help="workers in the import benchmark's file ('import')")
    a = p.parse_args(argv)
    if a.what == "load":  # its own run (not in 'all'): bench/load.py
        from .load import run as run_load

        return run_load(a.workers, a.users, a.duration)
    if a.what == "import":  # its own databases: no national dataset needed
        from .imports import run as run_import

        return run_import(a.rows)
    t_start = time.perf_counter()
    table = Table()
    print(f"profreg benchmark — {platform.node()} {platform.processor() or platform.machine()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}", flush=True)

    url, gen = ensure_dataset(a.workers, rebuild=a.rebuild)
    table.add(f"demo generation, {a.workers:,} workers", f"{gen:.1f} s" if gen else "reused",
              "flask profreg demo (bulk inserts)" if gen else "dataset already built; --rebuild to time it")
    small_url = None
    if a.small and a.small != a.workers:
        small_url, sgen = ensure_dataset(a.small, rebuild=a.rebuild)
        if sgen:
            table.add(f"demo generation, {a.small:,} workers", f"{sgen:.1f} s")

    if a.what in ("all", "panel"):
        from .web import run_panel

        big = run_panel(table, f"{a.workers // 1000}k", url, a.requests)
        if small_url:
            small = run_panel(table, f"{a.small // 1000}k", small_url, a.requests)
            for role in ("ministry", "region", "hr"):
                k = f"list_{role}"
                table.add(f"scaling: list p95 {a.workers // 1000}k / {a.small // 1000}k as {role}",
                          f"{big[k][1] / small[k][1]:.2f}x", "target <= 1.3x")
        for role in ("ministry", "region", "hr"):
            k = f"list_{role}"
            table.add(f"list p95 / floor p95 as {role} ({a.workers // 1000}k)",
                      f"{big[k][1] / big['floor'][1]:.2f}x", "target <= 2x")

    if a.what in ("all", "dashboard"):
        from .dashboard import run as run_dashboard

        run_dashboard(table, url, a.workers)

    if a.what == "plans":
        from .plans import run as run_plans

        run_plans(url=url)
        return 0

    if a.what == "replica":  # a hot standby of the local cluster (not in 'all': it copies the cluster)
        from .replica import run as run_replica

        run_replica(table=table, url=url, workers=a.workers)

    if a.what == "api":  # the token API and FHIR (not in 'all': it creates tokens and a service account)
        from .api import run as run_api

        run_api(table=table, url=url, workers=a.workers, requests=a.requests)

    for name, module in (("sweep", "sweep"), ("monitoring", "monitoring"), ("export", "export"),
                         ("slowpaths", "slowpaths")):
        if a.what in ("all", name):
            mod = _optional(module)
            if mod is None:
                table.add(f"{name}", "not available", f"bench/{module}.py missing")
                continue
            mod.run(table=table, url=url, workers=a.workers)

    table.print()
    print(f"total benchmark time: {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
