"""scripts/backup.sh and scripts/restore.sh on the machine's PostgreSQL (docs/operations.md): a demo
register with uploaded documents is backed up, restored into a new database and upload folder, and
compared table by table (row count and a checksum of every row) and file by file (SHA-256)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("BACKUP_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432")


def _run(args, env=None, check=True):
    proc = subprocess.run(args, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Per table of the register: (rows, md5 over the md5 of every row in a fixed order)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                       "ORDER BY tablename")).scalars().all()
            out = {}
            for t in tables:
                out[t] = tuple(conn.execute(text(
                    f'SELECT count(*), coalesce(md5(string_agg(md5(r::text), \'\' ORDER BY md5(r::text))), \'\') '
                    f'FROM "{t}" r')).one())
            return out
    finally:
        engine.dispose()


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def databases(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("backup and restore are of PostgreSQL: run with the suite on PostgreSQL (TEST_DATABASE_URL)")
    admin = create_engine(f"{SERVER.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL at {SERVER} is not reachable: {exc}")
    names = [f"profreg_backup_{uuid.uuid4().hex[:8]}_{k}" for k in ("src", "dst")]
    with admin.connect() as c:
        for n in names:
            c.execute(text(f'CREATE DATABASE "{n}"'))
    yield [f"{SERVER}/{n}" for n in names]
    with admin.connect() as c:
        for n in names:
            c.execute(text(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)'))
    admin.dispose()


def test_backup_then_restore_gives_the_same_register_and_documents(databases, tmp_path):
    source, target = databases
    uploads = tmp_path / "documents"
    (uploads / "2026" / "11").mkdir(parents=True)
    for i in range(3):  # stored files as the documents domain names them (any bytes do)
        (uploads / "2026" / "11" / f"{uuid.uuid4().hex}.pdf").write_bytes(os.urandom(4096 + i))
    env = {"DATABASE_URL": source, "PROFREG_CONFIG": "default", "UPLOAD_FOLDER": str(uploads)}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    _run([*flask, "db", "upgrade"], env)
    _run([*flask, "profreg", "demo", "--workers", "40"], env)
    before = _fingerprint(source)
    assert before["worker"][0] >= 40 and before["certificate"][0] > 0

    backup = tmp_path / "backup"
    done = _run(["bash", "scripts/backup.sh", str(backup)], env)
    print(done.stdout.strip())
    assert (backup / "database.dump").stat().st_size > 0
    assert "alembic_revision=0" in (backup / "backup.info").read_text()

    restored_uploads = tmp_path / "restored-documents"
    done = _run(["bash", "scripts/restore.sh", str(backup), target, str(restored_uploads)])
    print(done.stdout.strip())
    after = _fingerprint(target)
    assert after == before
    assert _files(restored_uploads) == _files(uploads)
    print(f"compared {len(after)} tables ({sum(r for r, _ in after.values())} rows) and "
          f"{len(_files(uploads))} documents: identical")

    # The restored register serves: its schema is at the code's head.
    check = _run([*flask, "db", "check"], {"DATABASE_URL": target, "PROFREG_CONFIG": "default"}, check=False)
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    # A second restore into the now non-empty target is refused, and so is a damaged backup.
    again = _run(["bash", "scripts/restore.sh", str(backup), target], check=False)
    assert again.returncode == 2 and "not empty" in again.stderr
    stored = next((backup / "documents").rglob("*.pdf"))
    stored.write_bytes(b"tampered")
    damaged = _run(["bash", "scripts/restore.sh", str(backup), target], check=False)
    assert damaged.returncode == 2 and "does not match its manifest" in damaged.stderr


def test_backup_refuses_a_non_empty_directory_and_a_non_postgresql_url(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("x")
    busy = _run(["bash", "scripts/backup.sh", str(tmp_path / "old")],
                {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres"}, check=False)
    assert busy.returncode == 2 and "not empty" in busy.stderr
    sqlite = _run(["bash", "scripts/backup.sh", str(tmp_path / "new")], {"DATABASE_URL": "sqlite:///x.db"},
                  check=False)
    assert sqlite.returncode == 2 and "PostgreSQL" in sqlite.stderr
