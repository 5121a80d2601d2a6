"""API tokens in the panel (System → API tokens): a user lists his own tokens (``admin``: every
user's), makes a new one (shown once) and revokes one. The rules are ``api.services``."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access, clock, uow
from ..admin.base import ProtectedBaseView
from ..errors import DomainError
from . import services


class ApiTokenView(ProtectedBaseView):
    resource = "api_token"

    def _page(self, new_token: str | None = None):
        tokens = services.tokens_for(current_user)
        return self.render("api/tokens.html", tokens=tokens, new_token=new_token, now=clock.utcnow_naive(),
                           show_owner=access.can(current_user, "user", access.LIST))

    @expose("/")
    def index(self):
        return self._page()

    @expose("/create/", methods=("POST",))
    def create(self):
        try:
            days = request.form.get("expires_days", "").strip()
            _row, raw = services.create_token(current_user, request.form.get("name"), int(days) if days else None)
        except ValueError:
            flash(_("Give a number of days of at least 1."), "error")
            return redirect(url_for(".index"))
        except DomainError as exc:
            uow.show_error(exc)
            return redirect(url_for(".index"))
        flash(_("Copy the token now: it is shown only once."), "success")
        return self._page(new_token=raw)

    @expose("/<int:token_id>/revoke/", methods=("POST",))
    def revoke(self, token_id: int):
        services.revoke_token(token_id, current_user)
        flash(_("The token was revoked."), "success")
        return redirect(url_for(".index"))


def register_views(admin):
    admin.add_view(ApiTokenView(name=_l("API tokens"), endpoint="api_tokens", url="/admin/api-tokens",
                                category=_l("System")))
