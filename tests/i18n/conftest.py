"""i18n tests need compiled catalogs: build the .mo files (atomically, only when older than the .po)
while pytest collects, i.e. before any test of the session renders a page, and drop Flask-Babel's and
Flask-Admin's process-wide translation caches before each i18n test."""
from __future__ import annotations

import pytest

from profreg.i18n_cli import compile_catalogs

compile_catalogs(only_stale=True)


@pytest.fixture(autouse=True)
def _fresh_translations(app):
    import flask_admin.babel as fa_babel

    compile_catalogs(only_stale=True)
    with app.app_context():
        app.extensions["babel"].instance.domain_instance.cache.clear()
    fa_babel.domain.cache.clear()
    yield
