"""The page floor, the worker card and the workers list of one checkout, timed in rounds, to compare
two versions of the code on the same database (docs/performance.md, "Worker card, side by side").

    git worktree add /tmp/old <commit>
    (cd /tmp/old && /path/to/main/.venv/bin/python /path/to/main/bench/side_by_side.py /tmp/old ministry 3)
    .venv/bin/python bench/side_by_side.py . ministry 3

Arguments: the checkout whose ``profreg`` and ``bench`` are served, the demo user (``ministry``,
``hr``, ...), a worker id that user may open. Prints median / p95 per page over 4 rounds of 15
requests each (each round starts from a collected heap) and the card's ratio to the page floor.
"""
from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/profreg_bench_300000"


def main(root: str, user: str, worker_id: int) -> None:
    sys.path.insert(0, str(Path(root).resolve()))  # that checkout's profreg and bench, not this one's
    from bench.web import login, make_app

    try:
        app = make_app(URL, REQUEST_LOG=False)
    except TypeError:  # an older checkout's make_app takes no settings
        app = make_app(URL)
    client = login(app, f"{user}@profreg.kz")
    pages = {"floor": "/admin/bench-floor/", "card": f"/admin/workers/details/?id={worker_id}",
             "list": "/admin/workers/"}
    for path in pages.values():
        for _ in range(5):
            status = client.get(path).status_code
            if status != 200:
                raise SystemExit(f"GET {path} -> {status}")
    samples = {name: [] for name in pages}
    for _round in range(4):
        for name, path in pages.items():
            gc.collect()
            for _ in range(15):
                t0 = time.perf_counter()
                client.get(path)
                samples[name].append((time.perf_counter() - t0) * 1000)
    figures = {}
    for name, values in samples.items():
        values.sort()
        figures[name] = (statistics.median(values), values[int(0.95 * (len(values) - 1))])
    print(root, user, " ".join(f"{k} {m:.1f}/{p:.1f} ms" for k, (m, p) in figures.items()),
          f"card/floor p95 {figures['card'][1] / figures['floor'][1]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
