#!/usr/bin/env bash
# Install and run the whole test suite: the unit suite, then the end-to-end suite (tests/e2e).
# Unit suite: SQLite by default; set TEST_DATABASE_URL for PostgreSQL, e.g.
#   TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/profreg_test bash scripts/test.sh
# Tests run in TEST_WORKERS pytest-xdist processes (default 2; 0 = in this process, e.g. for pdb);
# on PostgreSQL each worker has its own database. Extra arguments go to the unit suite's pytest (a
# later -n wins).
# End-to-end suite (scripts/e2e.sh: a served app in Chromium, over PostgreSQL and Redis): E2E=auto
# (default) runs it when /usr/bin/chromium is present and says so when it skips it; E2E=0 never, E2E=1
# always (it then skips with the reason if Chromium, PostgreSQL or Redis is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist worksteal --ignore=tests/e2e --ignore=tests/faults "$@"
# Fault tests (scripts/faults.sh: real PostgreSQL/Redis/rq/SMTP processes broken on purpose): FAULTS=1
# runs them after the unit suite, FAULTS=0 (default) leaves them to `bash scripts/faults.sh` and CI.
[ "${FAULTS:-0}" = 0 ] || FAULTS_SKIP_INSTALL=1 bash scripts/faults.sh
case "${E2E:-auto}" in
  0) ;;
  auto)
    if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
      E2E_SKIP_INSTALL=1 bash scripts/e2e.sh
    else
      echo "e2e suite skipped: no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium; E2E=0 silences this)"
    fi ;;
  *) E2E_SKIP_INSTALL=1 bash scripts/e2e.sh ;;
esac
