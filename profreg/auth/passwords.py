"""Password hashing with argon2id (never stored in clear).

New hashes use the argon2 cost profile named by the app's ``PASSWORD_HASH_PROFILE`` setting (a name in
``argon2.profiles``: ``RFC_9106_LOW_MEMORY`` by default and in production, ``CHEAPEST`` in tests only).
Verification reads the parameters from the stored hash itself, so a hash made under any profile is
still accepted after the setting changes.
"""
from __future__ import annotations

from functools import cache

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"


def profile_parameters(name: str) -> Parameters:
    """The ``argon2.profiles`` parameters called ``name``; an unknown name is a configuration error."""
    params = getattr(profiles, str(name), None)
    if not isinstance(params, Parameters):
        known = sorted(k for k, v in vars(profiles).items() if isinstance(v, Parameters))
        raise ValueError(f"PASSWORD_HASH_PROFILE={name!r} is not an argon2 profile (one of {', '.join(known)})")
    return params


@cache
def hasher(name: str = DEFAULT_PROFILE) -> PasswordHasher:
    return PasswordHasher.from_parameters(profile_parameters(name))


def configured_profile() -> str:
    """The profile of the current app (the production default outside an app context). argon2's
    ``CHEAPEST`` profile is for tests only: an app that is not ``TESTING`` refuses it."""
    if not has_app_context():
        return DEFAULT_PROFILE
    name = current_app.config.get("PASSWORD_HASH_PROFILE") or DEFAULT_PROFILE
    if name == "CHEAPEST" and not current_app.testing:
        raise RuntimeError("PASSWORD_HASH_PROFILE=CHEAPEST is for tests only (TESTING is off)")
    return name


def hash_password(password: str) -> str:
    return hasher(configured_profile()).hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        # argon2 encodes its parameters in the hash: any profile's hash verifies with any hasher
        return hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(profile: str) -> str:
    return hasher(profile).hash("profreg dummy password: never anybody's")


def verify_dummy(password: str) -> bool:
    """Verify ``password`` against a dummy hash of the configured cost: a sign-in with an unknown
    e-mail (or a throttled one) takes as long as a wrong password (no account enumeration by timing)."""
    verify_password(_dummy_hash(configured_profile()), password)
    return False
