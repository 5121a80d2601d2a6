"""``flask db upgrade`` on an empty database gives exactly the schema of the models."""
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent


def _flask(url, *args):
    env = {**os.environ, "DATABASE_URL": url, "PROFREG_CONFIG": "default"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_upgrade_then_check_reports_no_difference(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        base, _, test_db = url.rpartition("/")
        name = f"{test_db}_mig_{uuid.uuid4().hex[:8]}"  # tests/conftest.py drops it if a crash leaves it
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        target = f"{base}/{name}"
    else:
        admin, target = None, f"sqlite:///{tmp_path / 'mig.db'}"
    try:
        up = _flask(target, "db", "upgrade")
        assert up.returncode == 0, up.stderr
        check = _flask(target, "db", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr
        down = _flask(target, "db", "downgrade", "base")
        assert down.returncode == 0, down.stderr
    finally:
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_revisions_form_one_line():
    heads = re.findall(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$",
                       "\n".join(p.read_text() for p in (ROOT / "migrations" / "versions").glob("*.py")), re.M)
    revs = [h.strip() for h in heads]
    assert revs.count("None") == 1, "exactly one base revision"
    assert len(revs) == len(set(revs)), "no two revisions share a parent (branches must be merged)"
