#!/usr/bin/env bash
# Create .venv (if missing), install profreg with its pinned dependencies, build the .mo catalogs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
# The compiled catalogs (.mo) are committed, so any install of a checkout serves kk/ru; compiling again
# here is harmless (same bytes) and refreshes them after a local .po edit (tests/i18n/test_shipped_catalogs.py).
# messages: kk, ru, en; Flask-Admin's admin domain: kk (it ships none) and the ru entries it lacks.
.venv/bin/pybabel -q compile -d translations -D messages
.venv/bin/pybabel -q compile -d translations/admin -D admin
