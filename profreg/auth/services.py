"""Sign-in rules: limits on failures, the password rule, two-factor sign-in (TOTP and recovery codes),
user creation, server-side sessions; every sign-in event is written to the audit trail."""
from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import secrets
import string
from datetime import timedelta
from functools import cache
from pathlib import Path

import pyotp
import segno
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import parse_many
from sqlalchemy import delete, exists, func, or_, select, update

from .. import clock
from ..access import ORG_ROLES, Role, totp_required
from ..audit.services import log_event
from ..errors import DomainError
from ..extensions import db, limiter
from ..reference.models import AdminUnit
from .models import ROLES, User, UserSession
from .passwords import hash_password, verify_dummy, verify_password


class LoginRefused(DomainError):
    """Sign-in refused. ``keeps_writes``: the failed-login counter written before the refusal must
    survive it (the one documented exception to "an error writes nothing", profreg/errors.py)."""

    keeps_writes = True


#: The one answer to an unknown e-mail, a wrong password and a throttled attempt (no enumeration).
REFUSED = _l("Invalid e-mail or password.")


def _limit_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]  # no e-mail address in the limiter's storage


def _login_limits(email: str, address: str):
    """(limit, keys) pairs of a sign-in attempt: the client address's failures, whatever the account,
    and the account's failures from that address (``LOGIN_LIMIT_PER_ADDRESS`` / ``_PER_ACCOUNT``)."""
    config = current_app.config
    for item in parse_many(config["LOGIN_LIMIT_PER_ADDRESS"]):
        yield item, ("login-address", address)
    for item in parse_many(config["LOGIN_LIMIT_PER_ACCOUNT"]):
        yield item, ("login-account", _limit_key(email), address)


def login_throttled(email: str, address: str) -> bool:
    """Whether this address has used up its failed sign-ins (overall, or for this account)."""
    return any(not limiter.limiter.test(item, *keys) for item, keys in _login_limits(email, address))


def _count_failure(email: str, address: str | None) -> None:
    if address is not None:
        for item, keys in _login_limits(email, address):
            limiter.limiter.hit(item, *keys)


def _signin_event(action: str, user: User | None, *, actor: User | None = None, reason: str = "",
                  address: str | None = None) -> None:
    """An audit entry of a sign-in event on ``user``'s account (table ``user``, shown to the system
    administrator only: ``access.ACCOUNT_TABLES``). ``detail`` is a reason code and the client address
    (``admin.record_actions.detail_label`` words the code); no password, code or typed e-mail is kept."""
    detail = " ".join(part for part in (reason, address) if part) or None
    log_event(action, actor, record=user, table_name="user", detail=detail)


def authenticate(email: str, password: str, *, address: str | None = None) -> User:
    """Return the user for valid credentials. Every refusal (unknown e-mail, wrong password, too many
    failures from ``address``) says the same and costs the same: one argon2 verification (a dummy hash
    for an unknown e-mail or a throttled attempt) and one audit entry (``login_failed``). There is no
    lockout: failures slow down the address that makes them (``login_throttled``), so nobody can lock
    the owner out of an account. The caller writes the ``login`` entry once the sign-in is complete
    (after the second step, when the user has one: ``needs_second_step``)."""
    email = (email or "").strip().lower()
    user = db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()
    if address is not None and login_throttled(email, address):
        verify_dummy(password or "")
        _count_failure(email, address)  # an address that keeps trying stays throttled
        _signin_event("login_failed", user, actor=user, reason="throttled", address=address)
        raise LoginRefused(REFUSED)
    if user is None:
        verify_dummy(password or "")
        _count_failure(email, address)
        _signin_event("login_failed", None, reason="unknown_email", address=address)
        raise LoginRefused(REFUSED)
    if not verify_password(user.password_hash, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1  # shown to administrators; locks nothing
        db.session.flush()
        _count_failure(email, address)
        _signin_event("login_failed", user, actor=user, reason="wrong_password", address=address)
        raise LoginRefused(REFUSED)
    if not user.active:
        _signin_event("login_failed", user, actor=user, reason="disabled", address=address)
        raise LoginRefused(_l("This account is disabled."))
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    return user


def signed_in(user: User, *, address: str | None = None, method: str = "password") -> None:
    """The sign-in is complete (password, and the second step when there is one): noted on the user and
    in the audit trail (``login``, with ``password`` / ``totp`` / ``recovery``)."""
    user.last_login_at = clock.utcnow_naive()
    db.session.flush()
    _signin_event("login", user, actor=user, reason=method, address=address)


def signed_out(user: User | None, *, address: str | None = None) -> None:
    if user is not None:
        _signin_event("logout", user, actor=user, address=address)


# --- two-factor sign-in (TOTP, RFC 6238) and recovery codes


class SecondStepRefused(DomainError):
    """A wrong, reused or throttled second-step code: one answer for all. ``keeps_writes``: the audit
    entry of the failure survives the refusal."""

    keeps_writes = True


#: The one answer to a wrong, reused or throttled code and to an expired second step.
CODE_REFUSED = _l("Invalid code. Enter the current 6-digit code of your authenticator app or one of your "
                  "recovery codes.")
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper


def needs_second_step(user: User) -> bool:
    """Does this sign-in go on to a TOTP code (the user enrolled) or to the enrolment (the user's role
    requires two-factor sign-in, ``access.totp_required``, and the user has not enrolled yet)?"""
    return user.totp_enabled or totp_required(user)


def normalized_totp_secret(secret: str | None, field: str | None = None) -> str:
    """A TOTP secret given by an operator (``users create --totp-secret``): base32, at least 128 bits."""
    value = "".join((secret or "").split()).upper().rstrip("=")
    try:
        raw = base64.b32decode(value + "=" * (-len(value) % 8))
    except (binascii.Error, ValueError):
        raise DomainError(_l("The two-factor secret must be base32 (letters A-Z and digits 2-7)."), field) from None
    if len(raw) < 16:
        raise DomainError(_l("The two-factor secret must be at least 26 base32 characters (128 bits)."), field)
    return value


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _code_step(user: User, code: str) -> int | None:
    """The time step (30 s) whose code ``code`` is, within one step either side of now on the injectable
    clock, and later than the last step accepted for this user (a code is good once); else None."""
    digits = "".join(ch for ch in (code or "") if not ch.isspace())
    if not user.totp_secret or len(digits) != 6 or not digits.isascii() or not digits.isdigit():
        return None
    totp = _totp(user.totp_secret)
    now_step = totp.timecode(clock.now())
    found = None
    for step in (now_step - 1, now_step, now_step + 1):  # every step compared: the same time for any code
        if hmac.compare_digest(totp.generate_otp(step), digits) and (
                user.totp_last_step is None or step > user.totp_last_step):
            found = step
    return found


def _recovery_hash(code: str) -> str:
    bare = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return hashlib.sha256(bare.encode()).hexdigest()


def _recovery_index(user: User, code: str) -> int | None:
    wanted, found = _recovery_hash(code), None
    for i, stored in enumerate(user.totp_recovery or ()):
        if hmac.compare_digest(stored, wanted):
            found = i
    return found


def new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes (``xxxxx-xxxxx``, 49 bits each) replace the user's old ones; only their
    SHA-256 is stored. The codes are returned to be shown once."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    user.totp_recovery = [_recovery_hash(c) for c in codes]
    db.session.flush()
    return codes


def totp_uri(user: User, secret: str | None = None) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return _totp(secret or user.totp_secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config.get("TOTP_ISSUER") or "Professional Register")


def totp_qr(user: User) -> str:
    """The enrolment QR code as a ``data:image/svg+xml`` URI (an ``<img>``: no script, allowed by the CSP)."""
    return segno.make(totp_uri(user), error="m").svg_data_uri(scale=5, border=2)


def start_enrolment(user: User) -> str:
    """A new secret for a user who has not enrolled (kept until the first code confirms it; a user
    already enrolled keeps the secret in force). Returns the secret, to be shown with its QR code."""
    if user.totp_enabled:
        raise DomainError(_l("Two-step sign-in is already on for this account."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32(32)  # 160 bits
        user.totp_last_step = None
        db.session.flush()
    return user.totp_secret


def _second_step_limits(user: User, address: str | None):
    config = current_app.config
    for item in parse_many(config["TOTP_LIMIT_PER_ACCOUNT"]):
        yield item, ("totp-account", str(user.id))
    if address is not None:
        for item in parse_many(config["LOGIN_LIMIT_PER_ADDRESS"]):
            yield item, ("totp-address", address)


def _second_step_throttled(user: User, address: str | None) -> bool:
    return any(not limiter.limiter.test(item, *keys) for item, keys in _second_step_limits(user, address))


def _second_step_failed(user: User, address: str | None, reason: str) -> None:
    for item, keys in _second_step_limits(user, address):
        limiter.limiter.hit(item, *keys)
    _signin_event("totp_failed", user, actor=user, reason=reason, address=address)
    raise SecondStepRefused(CODE_REFUSED, "code")


def confirm_enrolment(user: User, code: str, *, address: str | None = None) -> list[str]:
    """The first code from the user's app confirms the secret: two-factor sign-in is on from now, and
    the user's recovery codes are returned (to be shown once). A wrong code counts against the same
    limits as the second step of a sign-in."""
    if user.totp_enabled or not user.totp_secret:
        raise DomainError(_l("Start the set-up of two-step sign-in again."), "code")
    throttled = _second_step_throttled(user, address)
    step = _code_step(user, code)
    if throttled or step is None:
        _second_step_failed(user, address, "throttled" if throttled else "wrong_code")
    user.totp_enabled_at = clock.utcnow_naive()
    user.totp_last_step = step
    codes = new_recovery_codes(user)
    _signin_event("totp_enrolled", user, actor=user, address=address)
    return codes


def verify_second_step(user: User, code: str, *, address: str | None = None) -> str:
    """The second step of a sign-in: a current TOTP code (not used before) or an unused recovery code
    (then spent). Returns ``totp`` or ``recovery``. Every refusal (wrong, reused, throttled) is the same
    ``SecondStepRefused`` after the same work (both checks always run) and is audited."""
    throttled = _second_step_throttled(user, address)
    step = _code_step(user, code) if user.totp_enabled else None
    spare = _recovery_index(user, code) if user.totp_enabled else None
    if throttled or (step is None and spare is None):
        _second_step_failed(user, address, "throttled" if throttled else "wrong_code")
    if step is not None:
        user.totp_last_step = step
        db.session.flush()
        _signin_event("totp_verified", user, actor=user, address=address)
        return "totp"
    user.totp_recovery = [h for i, h in enumerate(user.totp_recovery) if i != spare]
    db.session.flush()
    _signin_event("recovery_used", user, actor=user, reason=f"left_{len(user.totp_recovery)}", address=address)
    return "recovery"


def disable_totp(user: User, *, actor: User | None, address: str | None = None, reason: str = "by_user") -> None:
    """Two-factor sign-in off: secret and recovery codes removed. A user whose role requires it cannot
    turn it off (an administrator can reset it: the user enrols again at the next sign-in)."""
    if actor is user and totp_required(user):
        raise DomainError(_l("Your role must use two-step sign-in: it cannot be turned off."))
    had = user.totp_secret is not None
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.totp_recovery = None
    db.session.flush()
    if had:
        _signin_event("totp_disabled", user, actor=actor, reason=reason, address=address)


def provision_totp(user: User, secret: str) -> None:
    """Two-factor sign-in set up by an operator (``users create --totp-secret``, for automated clients
    that compute the codes themselves): in force at once, no recovery codes."""
    user.totp_secret = normalized_totp_secret(secret, "totp_secret")
    user.totp_enabled_at = clock.utcnow_naive()
    user.totp_last_step = None
    user.totp_recovery = []
    db.session.flush()
    _signin_event("totp_enrolled", user, reason="cli")


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt.gz")  # source: COMMON_PASSWORDS.md
#: Keyboard rows and alphabets: a password that is a run of one of them (forwards or backwards) is weak.
_RUNS = ("qwertyuiopasdfghjklzxcvbnm", "abcdefghijklmnopqrstuvwxyz", "01234567890123456789",
         "1q2w3e4r5t6y7u8i9o0p", "йцукенгшщзхъфывапролджэячсмитьбю", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя")


@cache
def common_passwords() -> frozenset[str]:
    """The common passwords shipped with the project (lower case)."""
    with gzip.open(_COMMON_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def _weak(password: str) -> bool:
    low = password.lower()
    common = common_passwords()
    core = low.strip(string.digits + string.punctuation + " ")
    if low in common or core in common or not core:
        return True
    if len(set(low)) < 5:
        return True
    bare = "".join(ch for ch in low if ch.isalnum())
    return any(bare in run or bare in run[::-1] for run in _RUNS)


def validate_new_password(password: str, *, email: str | None = None, current_hash: str | None = None,
                          field: str | None = None) -> None:
    """The password rule, for every place a password is set (password page, forced change, users panel,
    CLI): at least 12 characters; not a common password (``common_passwords``), a keyboard run or a
    repetition of a few characters; not containing the e-mail's local part; different from the
    current password ``current_hash`` (the forced first change must not keep the issued one)."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_l("The password must be at least %(n)s characters long.", n=MIN_PASSWORD_LENGTH), field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(_l("The password must be at most %(n)s characters long.", n=MAX_PASSWORD_LENGTH), field)
    if _weak(password):
        raise DomainError(_l("This password is too common or too easy to guess. Choose a longer phrase "
                             "that others would not guess."), field)
    local = (email or "").strip().lower().partition("@")[0]
    if len(local) >= 3 and local in password.lower():
        raise DomainError(_l("The password must not contain your e-mail address."), field)
    if current_hash and verify_password(current_hash, password):
        raise DomainError(_l("The new password must differ from the current one."), field)


def set_password(user: User, password: str, *, must_change: bool = False, keep_session: str | None = None,
                 check_current: bool = False, field: str | None = None) -> None:
    """Set a new password; every session of the user ends but ``keep_session`` (the user's own, when
    the user changes it)."""
    validate_new_password(password, email=user.email, field=field,
                          current_hash=user.password_hash if check_current else None)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    end_sessions(user, keep=keep_session)


def normalized_email(email: str | None, field: str | None = "email") -> str:
    """The e-mail, lower-cased, when it is a valid address (``email-validator``, no DNS look-up)."""
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise DomainError(_l("Enter a valid e-mail address."), field) from None


def create_user(email: str, role: str, password: str, *, organization=None, region=None, district=None,
                specialties=(), full_name: str | None = None, must_change: bool = True) -> User:
    """Create a user (flushes, never commits). Org roles need an organization, region a region (and,
    optionally, one of its districts: a district coordinator, rule 4.1)."""
    if role not in ROLES:
        raise DomainError(_l("Unknown role: %(role)s.", role=role))
    if role in ORG_ROLES and organization is None:
        raise DomainError(_l("This role needs an organization."))
    if role == Role.REGION and region is None:
        raise DomainError(_l("This role needs a region."))
    email = normalized_email(email)
    if db.session.execute(select(User.id).where(func.lower(User.email) == email)).first():
        raise DomainError(_l("A user with this e-mail already exists."))
    user = User(email=email, role=role, full_name=full_name,
                organization_id=organization.id if organization is not None else None,
                region_id=region.id if region is not None else None,
                district_id=district.id if district is not None and role == Role.REGION else None)
    check_district(user)
    set_password(user, password, must_change=must_change)
    user.specialties = list(specialties)
    db.session.add(user)
    db.session.flush()
    return user


def check_user_scope(user) -> None:
    """The role's scope fields must be set (org roles: organization; region: a region; association:
    at least one specialty). Raises ``DomainError``."""
    if user.role not in ROLES:
        raise DomainError(_l("Unknown role: %(role)s.", role=user.role))
    if user.role in ORG_ROLES and user.organization_id is None and user.organization is None:
        raise DomainError(_l("This role needs an organization."))
    if user.role == Role.REGION and user.region_id is None and user.region is None:
        raise DomainError(_l("This role needs a region."))
    if user.role == Role.ASSOCIATION and not user.specialties:
        raise DomainError(_l("An association needs at least one specialty."))
    check_district(user)


def check_district(user) -> None:
    """A district limits only a region coordinator, and must be a district of the user's region."""
    district = user.district if user.district is not None else (
        db.session.get(AdminUnit, user.district_id) if user.district_id else None)
    if district is None:
        return
    region_id = user.region.id if user.region is not None else user.region_id
    if user.role != Role.REGION:
        return  # other roles carry no district (``prepare_user`` empties it)
    if district.level != 2 or district.parent_id != region_id:
        raise DomainError(_l("Choose a district of the user's region."), field="district")


def prepare_user(user, *, new_password: str | None, is_created: bool) -> None:
    """Admin create / edit of a user: normalize the e-mail, check the scope, set the password.
    A password set by an administrator must be changed at the next sign-in."""
    user.email = normalized_email(user.email)
    check_user_scope(user)
    if user.role not in ORG_ROLES:
        user.organization = None
        user.organization_id = None
    if user.role != Role.REGION:
        user.region = None
        user.region_id = None
        user.district = None
        user.district_id = None
    if user.role != Role.ASSOCIATION:
        user.specialties = []
    if is_created and not new_password:
        raise DomainError(_l("Set an initial password for the new user."))
    if new_password:
        set_password(user, new_password, must_change=True, field="new_password")
        user.failed_logins = 0
        user.locked_until = None
    if not user.active:
        end_sessions(user)


def disable_user(user: User) -> None:
    """Users are disabled, never deleted (the audit trail keeps their id); their sessions end at once."""
    user.active = False
    end_sessions(user)
    db.session.flush()


# --- server-side sessions (issue 18): the cookie carries a random id, the database says if it is alive


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def session_max_age() -> timedelta:
    """The absolute lifetime of a session (``SESSION_MAX_HOURS``, 12 by default)."""
    return timedelta(hours=float(current_app.config.get("SESSION_MAX_HOURS", 12)))


def open_session(user: User) -> str:
    """A new session of ``user``; returns its id (kept only in the signed cookie; the database keeps its
    hash). The user's ended and expired sessions are removed on the way. Flushes, never commits."""
    now = clock.utcnow_naive()
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at.is_not(None), UserSession.created_at < now - session_max_age())))
    sid = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, sid_hash=_sid_hash(sid), created_at=now))
    db.session.flush()
    return sid


def _alive(user_id: int, sid: str):
    """SQL: the session ``sid`` of that user exists, is not ended and is within its lifetime."""
    oldest = clock.utcnow_naive() - session_max_age()
    return exists().where(UserSession.sid_hash == _sid_hash(sid), UserSession.user_id == user_id,
                          UserSession.ended_at.is_(None), UserSession.created_at >= oldest)


def session_alive(user_id: int, sid: str | None) -> bool:
    """Whether the session ``sid`` of that user exists, is not ended and is within its lifetime."""
    return bool(sid) and bool(db.session.execute(select(_alive(user_id, sid))).scalar())


def session_user(user_id: int, sid: str | None) -> User | None:
    """The user of the live session ``sid`` (``session_alive``), in one round trip: every signed-in
    request asks it, so the user row and the session check are one query."""
    if not sid:
        return None
    return db.session.execute(select(User).where(User.id == user_id, _alive(user_id, sid))).scalar_one_or_none()


def end_session(sid: str | None) -> None:
    """Sign-out: the session ``sid`` ends (a saved copy of its cookie no longer signs anyone in)."""
    if sid:
        db.session.execute(update(UserSession).where(UserSession.sid_hash == _sid_hash(sid),
                                                     UserSession.ended_at.is_(None))
                           .values(ended_at=clock.utcnow_naive()))


def end_sessions(user: User, *, keep: str | None = None) -> None:
    """Every session of ``user`` ends, but ``keep`` (the one changing its own password)."""
    if user.id is None:
        return
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep:
        query = query.where(UserSession.sid_hash != _sid_hash(keep))
    db.session.execute(query.values(ended_at=clock.utcnow_naive()))
