"""The panel shell: the Admin object, the protected index (dashboard) and the view registry."""
from __future__ import annotations

from flask import Flask, current_app, g
from flask_admin import Admin, expose
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access
from ..domains import TRANSLATIONS, modules
from ..i18n import current_lang
from ..i18n import jinja_filters as i18n_filters
from ..security_headers import csp_nonce
from . import dashboard, menu_cache
from .base import ProtectedIndexView
from .dateinput import calendar_locale
from .error_pages import register as register_error_pages
from .exports_page import register_views as register_exports_page

LANGUAGE_LABELS = (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"))


def app_kept_seconds() -> int:
    """How long a big scope's figures are kept (``BIG_SCOPE_CACHE_SECONDS``), for the pages that say so."""
    return int(current_app.config.get("BIG_SCOPE_CACHE_SECONDS") or 0)


class DashboardView(ProtectedIndexView):
    @expose("/")
    def index(self):
        user, memo = current_user, {}  # the tiles and the worklist share some counts: counted once
        return self.render("admin/index.html", cards=dashboard.dashboard_cards(user, memo),
                           worklist=dashboard.worklist(user, memo), org_table=dashboard.organization_table(user),
                           region_reports=dashboard.region_reports(user), trend=dashboard.trend(user),
                           scope_label=dashboard.scope_label(user), masked_iins=access.mask_for(user),
                           kept_seconds=app_kept_seconds() if dashboard.counts_kept(user) else 0)


def init_admin(app: Flask) -> Admin:
    """Build a fresh Admin per app (pitfall 13) and let each domain register its views."""

    admin = Admin(
        app,
        name=_l("Professional Register"),
        theme=Bootstrap4Theme(swatch="default", fluid=True, base_template="profreg/layout.html"),
        index_view=DashboardView(name=_l("Dashboard"), url="/admin"),
        translations_path=str(TRANSLATIONS / "admin"),
        csp_nonce_generator=csp_nonce,  # its <script> tags carry the response's CSP nonce
    )
    app.jinja_env.globals.update(current_lang=current_lang, language_choices=lambda: LANGUAGE_LABELS,
                                 active_tile=dashboard.active_tile,  # a list opened from a dashboard tile
                                 calendar_locale=calendar_locale,
                                 main_menu_key=menu_cache.menu_key, main_menu_kept=menu_cache.kept_menu,
                                 main_menu_keep=menu_cache.keep_menu)  # the main menu, kept per role and page
    app.jinja_env.filters.update(i18n_filters)  # fmt_date / fmt_datetime / fmt_number (Babel, per locale)

    # Every domain's admin module is imported before any view is built: importing one declares its
    # parts of the worker page and form (admin/worker_records.py), which the workers view reads.
    for mod in modules("admin"):  # all imported first (list): see above
        mod.register_views(admin)
    register_exports_page(admin)  # the user's background list exports (admin/exporting.py)
    app.extensions["profreg_admin"] = admin
    register_error_pages(app)  # 403/404/405/500 in the user's language, in the panel's layout

    @app.before_request
    def _fresh_request_memo():
        # ``formatting.request_memo`` answers once per request; ``g`` may outlive a request (a test
        # client inside an already pushed app context), the answers must not.
        g.pop("profreg_memo", None)
        g.pop("profreg_filter_states", None)
        g.pop("profreg_count_estimated", None)

    return admin
