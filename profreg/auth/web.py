"""/login (and its second step: /login/code, /login/enrol), /logout, /password, /account/two-step:
sign-in with Flask-Login and two-factor sign-in (TOTP)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import clock
from ..access import totp_required
from ..errors import DomainError
from ..extensions import db, login_manager
from ..redirects import safe_next
from ..uow import show_error
from .forms import ChangePasswordForm, CodeForm, DisableTotpForm, LoginForm
from .models import User
from .passwords import verify_password
from .services import (
    LoginRefused,
    SecondStepRefused,
    authenticate,
    confirm_enrolment,
    disable_totp,
    end_session,
    needs_second_step,
    new_recovery_codes,
    open_session,
    session_max_age,
    session_user,
    set_password,
    signed_in,
    signed_out,
    start_enrolment,
    totp_qr,
    verify_second_step,
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


def _address() -> str:
    return request.remote_addr or "-"


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    asked = request.args.get("lang")
    if asked in current_app.config.get("LANGUAGES", ("kk", "ru", "en")):
        session["login_lang"] = asked  # chosen on this page: carried into the session (below)
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, address=_address())
        except LoginRefused as exc:
            flash(str(exc.message), "error")  # the failure counter is committed with the request
        else:
            if needs_second_step(user):
                _begin_second_step(user)
                return redirect(url_for("auth.second_step" if user.totp_enabled else "auth.enrol"))
            return _finish_sign_in(user, "password", request.args.get("next"))
    return render_template("auth/login.html", form=form)


#: The pending second step: the user whose password was right, when, and where to go afterwards. It lives
#: in the signed cookie of the not-yet-signed-in browser; sign-in replaces the whole session (new id).
_PENDING = "_2fa"


def _begin_second_step(user) -> None:
    session[_PENDING] = {"uid": user.id, "t": _now(), "next": safe_next(request.args.get("next"))}


def _pending_user():
    """The user of the pending second step, while it is younger than ``TOTP_PENDING_MINUTES``."""
    data = session.get(_PENDING)
    uid, began = (data.get("uid"), data.get("t")) if isinstance(data, dict) else (None, None)
    fresh = isinstance(began, (int, float)) and _now() - began <= 60 * float(
        current_app.config.get("TOTP_PENDING_MINUTES", 5))
    user = db.session.get(User, uid) if fresh and isinstance(uid, int) and 0 < uid < 2 ** 63 else None
    if user is None or not user.active:
        session.pop(_PENDING, None)
        return None
    return user


def _no_pending():
    flash(_("Sign in again: the time for the second step has run out."), "error")
    return redirect(url_for("auth.login"))


def _after_sign_in_url(user, next_url) -> str:
    if user.must_change_password:
        return url_for("auth.change_password")
    return _safe_next(next_url)


def _finish_sign_in(user, method: str, next_url: str | None):
    _start_session(user)
    _keep_login_language(user)
    signed_in(user, address=_address(), method=method)
    return redirect(_after_sign_in_url(user, next_url))


@bp.route("/login/code", methods=["GET", "POST"])
def second_step():
    """The second step of a sign-in: a code of the user's authenticator app, or a recovery code."""
    user = _pending_user()
    if user is None:
        return _no_pending()
    if not user.totp_enabled:
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        next_url = session[_PENDING].get("next")
        try:
            method = verify_second_step(user, form.code.data, address=_address())
        except SecondStepRefused as exc:
            flash(str(exc.message), "error")  # the audit entry of the failure is committed with the request
        else:
            return _finish_sign_in(user, method, next_url)
    return render_template("auth/code.html", form=form)


@bp.route("/login/enrol", methods=["GET", "POST"])
def enrol():
    """Enrolment at the first sign-in of a user whose role requires two-factor sign-in: the QR code of a
    new secret, confirmed with the app's first code; then the recovery codes, shown once."""
    user = _pending_user()
    if user is None:
        return _no_pending()
    if user.totp_enabled:
        return redirect(url_for("auth.second_step"))
    secret = start_enrolment(user)
    form = CodeForm()
    if form.validate_on_submit():
        next_url = session[_PENDING].get("next")
        try:
            codes = confirm_enrolment(user, form.code.data, address=_address())
        except DomainError as exc:
            show_error(exc, form)
        else:
            _start_session(user)
            _keep_login_language(user)
            signed_in(user, address=_address(), method="totp")
            return render_template("auth/recovery_codes.html", codes=codes,
                                   continue_url=_after_sign_in_url(user, next_url))
    return render_template("auth/enrol.html", form=form, qr=totp_qr(user), secret=_grouped(secret),
                           required=totp_required(user), cancel_url=url_for("auth.login"))


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def two_step():
    """The user's own two-step sign-in: set it up (QR code, first code, recovery codes), or, when it is
    on, get new recovery codes or turn it off (not for a role that must use it)."""
    user = current_user._get_current_object()
    if user.totp_enabled:
        return render_template("auth/two_step.html", codes_form=CodeForm(prefix="codes"),
                               off_form=DisableTotpForm(prefix="off"), required=totp_required(user),
                               left=len(user.totp_recovery or ()))
    secret = start_enrolment(user)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = confirm_enrolment(user, form.code.data, address=_address())
        except DomainError as exc:
            show_error(exc, form)
        else:
            return render_template("auth/recovery_codes.html", codes=codes, continue_url=url_for("auth.two_step"))
    return render_template("auth/enrol.html", form=form, qr=totp_qr(user), secret=_grouped(secret),
                           required=False, cancel_url=url_for("admin.index"))


@bp.route("/account/two-step/recovery-codes", methods=["POST"])
@login_required
def new_codes():
    """New recovery codes (the old ones stop working), after a current code."""
    user = current_user._get_current_object()
    form = CodeForm(prefix="codes")
    if user.totp_enabled and form.validate_on_submit():
        try:
            verify_second_step(user, form.code.data, address=_address())
        except SecondStepRefused as exc:
            flash(str(exc.message), "error")
        else:
            return render_template("auth/recovery_codes.html", codes=new_recovery_codes(user),
                                   continue_url=url_for("auth.two_step"))
    return redirect(url_for("auth.two_step"))


@bp.route("/account/two-step/off", methods=["POST"])
@login_required
def two_step_off():
    """Turn two-step sign-in off: the current password and a current code (not for a role that must use it)."""
    user = current_user._get_current_object()
    form = DisableTotpForm(prefix="off")
    if user.totp_enabled and form.validate_on_submit():
        if not verify_password(user.password_hash, form.password.data):
            flash(str(_("The current password is wrong.")), "error")
            return redirect(url_for("auth.two_step"))
        try:
            verify_second_step(user, form.code.data, address=_address())
            disable_totp(user, actor=user, address=_address())
        except DomainError as exc:
            show_error(exc)
        else:
            flash(_("Two-step sign-in is off."), "success")
    return redirect(url_for("auth.two_step"))


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
    signed_out(current_user._get_current_object() if current_user.is_authenticated else None,
               address=_address())  # before the session ends: the user loader then no longer finds it
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
