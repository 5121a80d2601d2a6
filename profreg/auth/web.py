"""/login, /logout, /password: sign-in with Flask-Login."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import DomainError
from ..extensions import db, login_manager
from ..uow import show_error
from .forms import ChangePasswordForm, LoginForm
from .models import User
from .passwords import verify_password
from .services import LoginRefused, authenticate, set_password

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(user_id: str):
    return db.session.get(User, int(user_id))


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("admin.index")


@bp.route("/")
def root():
    return redirect(url_for("admin.index"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    asked = request.args.get("lang")
    if asked in current_app.config.get("LANGUAGES", ("kk", "ru", "en")):
        session["login_lang"] = asked  # chosen on this page: carried into the session (below)
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except LoginRefused as exc:
            flash(str(exc.message), "error")  # the failure counter is committed with the request
        else:
            login_user(user)
            _keep_login_language(user)
            if user.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def _keep_login_language(user) -> None:
    """The language chosen on the sign-in page (its switcher) is kept after sign-in: it becomes the
    session's language, ahead of the user's saved preference for this session (``i18n.select_locale``),
    and is saved as the preference of a user who has none yet. A saved preference is not overwritten
    by it (a shared computer's last choice must not change a colleague's setting); the panel's switcher
    changes it."""
    lang = session.pop("login_lang", None)
    if lang is None:
        return
    session["lang"] = lang
    session["lang_pinned"] = True
    if not user.locale:
        user.locale = lang


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    logout_user()
    session.pop("lang_pinned", None)  # the next user's own preference applies again
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            try:
                set_password(current_user, form.password.data, must_change=False)
            except DomainError as exc:
                show_error(exc, form)
            else:
                flash(_("Your password has been changed."), "success")
                return redirect(url_for("admin.index"))
    return render_template("auth/password.html", form=form)


def register(app):
    app.register_blueprint(bp)

    @app.before_request
    def _force_password_change():
        if (current_user.is_authenticated and current_user.must_change_password
                and not g.get("profreg_api")  # an API call (token) has no password form to go to
                and request.endpoint not in ("auth.change_password", "auth.logout", "static")):
            return redirect(url_for("auth.change_password"))
        return None
