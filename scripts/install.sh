#!/usr/bin/env bash
# Create .venv (if missing), install profreg with its pinned dependencies, build the .mo catalogs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
# Compiled catalogs are build output: made from the .po files on every install.
for domain in messages admin; do
  if ls translations/*/LC_MESSAGES/$domain.po >/dev/null 2>&1; then
    .venv/bin/pybabel compile -q -D "$domain" -d translations
  fi
done
if ls translations/admin/*/LC_MESSAGES/admin.po >/dev/null 2>&1; then
  .venv/bin/pybabel compile -q -D admin -d translations/admin
fi
