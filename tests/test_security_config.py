"""Issue 18, item 4: production refuses to start insecurely (no SECRET_KEY, or the public development
value), and carries secure cookies and https URLs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _prod(**overrides):
    from config import ProductionConfig

    return type("Prod", (ProductionConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://", **overrides})


@pytest.mark.parametrize("key", [None, "", "dev-only-change-me", "short"])
def test_production_without_a_real_secret_key_refuses_to_build(key):
    from profreg import create_app
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(_prod(SECRET_KEY=key))


def test_production_with_a_real_key_is_secure():
    from profreg import create_app

    app = create_app(_prod(SECRET_KEY="k" * 48))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PROFREG_CONFIG", "DATABASE_URL")}
    env.update(extra)
    return env


@pytest.mark.parametrize("secret", [None, "dev-only-change-me"])
def test_flask_run_in_production_without_a_secret_exits_non_zero(tmp_path, secret):
    env = _env(PROFREG_CONFIG="production", DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
               PROFREG_INSTANCE=str(tmp_path))
    if secret is not None:
        env["SECRET_KEY"] = secret
    flask = Path(sys.executable).with_name("flask")
    proc = subprocess.run([str(flask), "--app", "app", "run", "--port", "5999"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "SECRET_KEY" in proc.stderr
