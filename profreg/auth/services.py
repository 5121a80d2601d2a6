"""Sign-in rules: lockout after repeated failures, forced password change, user creation."""
from __future__ import annotations

import gzip
import hashlib
import secrets
import string
from datetime import timedelta
from functools import cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import parse_many
from sqlalchemy import delete, exists, func, or_, select, update

from .. import clock
from ..access import ORG_ROLES, Role
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


def authenticate(email: str, password: str, *, address: str | None = None) -> User:
    """Return the user for valid credentials. Every refusal (unknown e-mail, wrong password, too many
    failures from ``address``) says the same and costs the same: one argon2 verification (a dummy hash
    for an unknown e-mail or a throttled attempt). There is no lockout: failures slow down the address
    that makes them (``login_throttled``), so nobody can lock the owner out of an account."""
    email = (email or "").strip().lower()
    user = db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()
    if address is not None and login_throttled(email, address):
        verify_dummy(password or "")
        _count_failure(email, address)  # an address that keeps trying stays throttled
        raise LoginRefused(REFUSED)
    if user is None:
        verify_dummy(password or "")
        _count_failure(email, address)
        raise LoginRefused(REFUSED)
    if not verify_password(user.password_hash, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1  # shown to administrators; locks nothing
        db.session.flush()
        _count_failure(email, address)
        raise LoginRefused(REFUSED)
    if not user.active:
        raise LoginRefused(_l("This account is disabled."))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = clock.utcnow_naive()
    db.session.flush()
    return user


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
