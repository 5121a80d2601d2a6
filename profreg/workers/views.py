"""Custom panel pages of the workers domain (thin: parse, call a service, show).

* **Transfers** (``/admin/transfers/``, resource ``transfer``): the transfers a user sees (scope
  ``between``: both organizations and the old one's region), filtered overdue / open / all; the region
  coordinator's worklist is the overdue ones. "End the episode" ends the old organization's episode
  (``services.end_transferred_episode``: the region once the due date has passed, the organization's
  own HR any time), with a reason.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from .. import access, clock
from ..admin.base import PanelForm, ProtectedBaseView
from ..errors import DomainError
from ..extensions import db
from ..i18n import fmt_date
from ..uow import show_error
from .models import TRANSFER_CANCELLED, TRANSFER_ENDED, Transfer
from .services import (
    TRANSFER_VIEWS,
    end_transferred_episode,
    may_end_transfer,
    transfer_list,
)

PAGE_SIZE = 50


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _id() -> int:
    try:
        return int(request.args.get("id", ""))
    except ValueError:
        abort(404)


class ReasonForm(PanelForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=255)])


# ------------------------------------------------------------------------------------------ transfers
def transfer_status(transfer, today) -> tuple[str, str]:
    """(label, badge class) of a transfer's state on ``today``."""
    if transfer.status == TRANSFER_ENDED:
        return _("ended"), "badge-secondary"
    if transfer.status == TRANSFER_CANCELLED:
        return _("cancelled"), "badge-light"
    if transfer.due_date < today:
        return _("overdue"), "badge-danger"
    return _("open"), "badge-warning"


class TransfersView(ProtectedBaseView):
    """Transfers between organizations; the region coordinator's worklist of overdue ones."""

    resource = "transfer"

    def _show(self) -> str:
        show = request.args.get("show", "open")
        return show if show in TRANSFER_VIEWS else "open"

    @expose("/")
    def index(self):
        today, show, page = clock.today(), self._show(), _page()
        q = transfer_list(current_user, show, today).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
        rows = db.session.execute(q).scalars().all()
        items = [(t, transfer_status(t, today), may_end_transfer(current_user, t, today)) for t in rows[:PAGE_SIZE]]
        filters = [("overdue", _("Overdue")), ("open", _("Open")), ("all", _("All"))]
        return self.render("workers/transfers.html", items=items, show=show, filters=filters, page=page,
                           has_next=len(rows) > PAGE_SIZE, today=today)

    def _transfer(self) -> Transfer:
        transfer = db.session.execute(transfer_list(current_user, "all").where(Transfer.id == _id())).scalar()
        if transfer is None:
            abort(404)
        return transfer

    @expose("/end/", methods=("GET", "POST"))
    def end(self):
        access.require(current_user, "transfer", access.END)
        transfer = self._transfer()
        # only the old organization and its region act on a transfer (403 for the new one)
        access.require(current_user, "transfer", access.END, org_id=transfer.organization_id)
        form = ReasonForm(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            try:
                episode = end_transferred_episode(transfer, user=current_user, reason=form.reason.data)
            except DomainError as exc:
                show_error(exc, form)
            else:
                flash(_("The episode of %(worker)s in %(organization)s was ended on %(date)s.",
                        worker=transfer.worker.full_name, organization=transfer.organization.name,
                        date=fmt_date(episode.end_date)), "success")
                return redirect(url_for(".index", show="overdue"))
        today = clock.today()
        return self.render("workers/transfer_end.html", transfer=transfer, form=form,
                           status=transfer_status(transfer, today),
                           allowed=may_end_transfer(current_user, transfer, today),
                           end_date=transfer.to_employment.hire_date - timedelta(days=1))


def register_worker_pages(admin, category) -> None:
    admin.add_view(TransfersView(name=_l("Transfers"), endpoint="transfers", url="/admin/transfers",
                                 category=category))


__all__ = ["TransfersView", "register_worker_pages", "transfer_status"]
