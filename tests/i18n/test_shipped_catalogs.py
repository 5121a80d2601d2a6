"""The compiled catalogs (.mo) are committed with the .po files they come from, so any install of a
checkout (``pip install .`` / ``-e .`` without scripts/install.sh) serves Kazakh and Russian. These
tests keep the committed .mo files identical in content to their .po files; after editing a .po run
``python -m profreg.i18n_cli compile`` and commit the .mo with it."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from babel.messages.mofile import read_mo
from babel.support import Translations

from profreg.domains import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs the git checkout")

PO_FILES = sorted(p.relative_to(ROOT) for p in (ROOT / "translations").rglob("*.po"))


def _git(*args) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout


def _messages(catalog) -> dict:
    def key(v):
        return v if isinstance(v, str) else tuple(v)

    return {key(m.id): key(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("po", PO_FILES, ids=str)
def test_every_catalog_is_committed_compiled_and_current(po):
    from babel.messages.pofile import read_po

    mo = po.with_suffix(".mo")
    assert _git("ls-files", str(mo)).strip(), f"{mo} is not committed: compile and `git add` it"
    committed = read_mo(io.BytesIO(_git("show", f":{mo}")))
    source = read_po((ROOT / po).open("rb"))
    assert _messages(committed) == _messages(source), f"{mo} is stale: run `python -m profreg.i18n_cli compile`"


def test_a_checkout_without_the_install_script_serves_kazakh(tmp_path):
    """What a fresh clone holds (the git index, exported; no compile step run) translates to Kazakh."""
    _git("checkout-index", "-a", f"--prefix={tmp_path}/")
    kk = Translations.load(str(tmp_path / "translations"), ["kk"], domain="messages")
    assert kk.gettext("Sign in") == "Кіру"
    assert kk.gettext("Page not found") == "Бет табылмады"
    admin_kk = Translations.load(str(tmp_path / "translations" / "admin"), ["kk"], domain="admin")
    assert admin_kk.gettext("Save") != "Save"
