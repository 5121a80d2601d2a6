#!/usr/bin/env bash
# Install and run the whole test suite. SQLite by default; set TEST_DATABASE_URL for PostgreSQL, e.g.
#   TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/profreg_test bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m pytest "$@"
