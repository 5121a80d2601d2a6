#!/usr/bin/env bash
# The end-to-end suite (tests/e2e): gunicorn over a fresh PostgreSQL database with the demo country,
# Redis and an rq worker, driven by Debian's Chromium through Playwright. Needs /usr/bin/chromium
# (apt-get install chromium), PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 (see
# tests/e2e/conftest.py for the variables); without them it is skipped with the reason.
# Artifacts (failure screenshots and HTML, the pages in kk/ru/en, server logs): test-artifacts/e2e/.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${E2E_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install.sh
exec .venv/bin/python -m pytest -p no:xdist -rsx tests/e2e "$@"
