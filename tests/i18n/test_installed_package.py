"""Issue 15, item 7: translations that survive any install. A plain, non-editable ``pip install`` of
the project (no checkout beside it, no scripts/install.sh) serves Kazakh for ``?lang=kk``: the wheel
holds the compiled catalogs, the templates and the static files (pyproject's package-data), and the
app reads its catalogs from the package (``profreg.domains.TRANSLATIONS``), not from the checkout.

Slow (builds a wheel, about 20 s): marked ``slow``; it needs pip's access to the package index for the
build backend (setuptools, wheel), as any ``pip install .`` does."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from profreg.domains import ROOT

pytestmark = pytest.mark.slow

SOURCES = ("profreg", "config", "translations", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy of the sources (the build writes build/ and egg-info)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, symlinks=True, ignore=ignore)
        elif path.exists():
            shutil.copy2(path, src / name)
    out = tmp / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--disable-pip-version-check",
                    "-w", str(out), str(src)], check=True, timeout=240, capture_output=True)
    return next(out.glob("profreg-*.whl"))


def test_the_wheel_holds_the_catalogs_templates_and_static_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for lang in ("kk", "ru", "en"):
        assert f"profreg/translations/{lang}/LC_MESSAGES/messages.mo" in names, lang
    assert "profreg/translations/admin/kk/LC_MESSAGES/admin.mo" in names  # Flask-Admin ships no Kazakh
    assert "profreg/templates/profreg/layout.html" in names
    assert "profreg/static/profreg/dates.js" in names
    assert any(n.startswith("profreg/reference/seeds/") for n in names)


def test_an_installed_copy_serves_kazakh(wheel, tmp_path):
    """Install the wheel (non-editable) into a fresh virtual environment whose dependencies come from
    the project's environment, and ask the app built from that copy for the sign-in page in kk."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    "--disable-pip-version-check", str(wheel)], check=True, timeout=120, capture_output=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # the dependencies (not profreg: a path line does not run the editable install's own .pth finder)
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = (
        "import profreg, pathlib\n"
        "from profreg import create_app\n"
        "app = create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'WTF_CSRF_ENABLED': False})\n"
        "print(pathlib.Path(profreg.__file__).resolve())\n"
        "client = app.test_client()\n"
        "print(client.get('/login?lang=kk').get_data(as_text=True))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL")}
    env["PROFREG_INSTANCE"] = str(tmp_path / "instance")
    done = subprocess.run([str(python), "-c", probe], cwd=tmp_path, env=env, check=True, timeout=120,
                          capture_output=True, text=True)
    where, page = done.stdout.split("\n", 1)
    assert where.startswith(str(venv)), where  # the installed copy, not the checkout
    assert "Кіру" in page  # "Sign in" in Kazakh, from the wheel's catalog
