#!/usr/bin/env bash
# Install and run the whole test suite. SQLite by default; set TEST_DATABASE_URL for PostgreSQL, e.g.
#   TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/profreg_test bash scripts/test.sh
# Tests run in TEST_WORKERS pytest-xdist processes (default 2; 0 = in this process, e.g. for pdb);
# on PostgreSQL each worker has its own database. Extra arguments go to pytest (a later -n wins).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist worksteal "$@"
