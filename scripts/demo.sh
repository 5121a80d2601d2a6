#!/usr/bin/env bash
# Install, migrate a SQLite database in instance/, load the demo country and serve http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
[ -z "${PROFREG_INSTANCE:-}" ] || mkdir -p "$PROFREG_INSTANCE"  # an empty directory named for the demo
.venv/bin/flask --app app db upgrade
.venv/bin/flask --app app profreg demo --workers "${DEMO_WORKERS:-2000}"
exec .venv/bin/flask --app app run --host 127.0.0.1 --port "${PORT:-5000}"
