"""/login, /logout, /password: sign-in with Flask-Login."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import clock
from ..errors import DomainError
from ..extensions import login_manager
from ..redirects import safe_next
from ..uow import show_error
from .forms import ChangePasswordForm, LoginForm
from .passwords import verify_password
from .services import (
    LoginRefused,
    authenticate,
    end_session,
    open_session,
    session_max_age,
    session_user,
    set_password,
)

bp = Blueprint("auth", __name__)


#: What a signed-in session carries besides Flask-Login's keys: the server-side session id, when it
#: began and when it was last used (both epoch seconds on the injectable clock).
SESSION_KEYS = ("_sid", "_t0", "_seen")
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", *SESSION_KEYS)
#: What survives sign-in and sign-out: the language chosen on the page.
_KEPT_KEYS = ("lang", "login_lang")


def _now() -> float:
    return clock.now().timestamp()


@login_manager.user_loader
def _load_user(user_id: str):
    """The signed-in user, only while the session is alive: its server-side row exists and is not
    ended (sign-out, password change, disabled user), it is younger than ``SESSION_MAX_HOURS`` and it
    was used within ``SESSION_IDLE_MINUTES``. Otherwise the session is forgotten (anonymous)."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        uid = None
    now = _now()
    user = None
    if uid is not None and 0 < uid < 2 ** 63 and _session_in_time(now):
        user = session_user(uid, session.get("_sid"))  # the user and his live session: one query
    if user is None or not user.active:
        for key in _LOGIN_KEYS:
            session.pop(key, None)
        return None
    if now - session["_seen"] >= 15:  # activity moves the idle deadline (the cookie is re-sent)
        session["_seen"] = now
    return user


def _session_in_time(now: float) -> bool:
    """The cookie's session is neither idle past ``SESSION_IDLE_MINUTES`` nor older than its lifetime."""
    began, seen = session.get("_t0"), session.get("_seen")
    if not isinstance(began, (int, float)) or not isinstance(seen, (int, float)):
        return False
    if now - seen > 60 * float(current_app.config.get("SESSION_IDLE_MINUTES", 30)):
        return False
    return now - began <= session_max_age().total_seconds()


def _start_session(user) -> None:
    """Sign-in: the browser's previous session ends and a new one, with a new id, begins."""
    end_session(session.get("_sid"))
    kept = {k: session[k] for k in _KEPT_KEYS if k in session}
    session.clear()  # the CSRF secret too: a new one for the signed-in session
    g.pop("csrf_token", None)  # Flask-WTF's token of this request was signed from the old secret
    session.update(kept)
    login_user(user)
    now = _now()
    session["_sid"] = open_session(user)
    session["_t0"] = session["_seen"] = now


def _safe_next(target: str | None) -> str:
    return safe_next(target) or url_for("admin.index")


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
            user = authenticate(form.email.data, form.password.data, address=request.remote_addr or "-")
        except LoginRefused as exc:
            flash(str(exc.message), "error")  # the failure counter is committed with the request
        else:
            _start_session(user)
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


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign-out: POST only, with the CSRF token (CSRFProtect), so no other page can sign a user out.
    The server-side session ends: a saved copy of the cookie no longer works."""
    end_session(session.get("_sid"))
    logout_user()
    lang = session.get("lang")
    session.clear()  # lang_pinned too: the next user's own preference applies again
    g.pop("csrf_token", None)
    if lang:
        session["lang"] = lang
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
                set_password(current_user, form.password.data, must_change=False, check_current=True,
                             field="password",
                             keep_session=session.get("_sid"))  # the user's other sessions end
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
