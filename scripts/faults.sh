#!/usr/bin/env bash
# The fault tests (tests/faults, docs/operations.md): real processes broken on purpose — a private
# PostgreSQL cluster restarted under gunicorn, a private redis-server killed, an rq worker SIGKILLed
# mid-sweep and mid-export, an SMTP server down then back. Needs the PostgreSQL server binaries
# (PG_BIN, default /usr/lib/postgresql/15/bin), PostgreSQL at 127.0.0.1:5432, Redis at 127.0.0.1:6379
# and redis-server; each test prints what it did and what it checked. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${FAULTS_SKIP_INSTALL:-0}" = 1 ] || bash scripts/install.sh
exec .venv/bin/python -m pytest -p no:xdist -o addopts="" -q -rA -s tests/faults "$@"
