"""Refuse to build a production app that would serve insecurely (issue 18, item 4).

``ProductionConfig`` sets ``REQUIRE_SECURE_SETTINGS``; ``create_app`` calls ``check(app)``, which raises
``RuntimeError`` (so ``flask run``, ``gunicorn app:app`` and every CLI command exit non-zero
with the message) when ``SECRET_KEY`` is missing, is a known public value (the development default is
in the repository: cookies signed with it can be forged offline) or is too short to resist guessing.
"""
from __future__ import annotations

#: Values that are public (in this repository or its docs): never a production key.
PUBLIC_KEYS = frozenset({"dev-only-change-me", "test", "dev", "secret", "changeme", "change-me"})
MIN_KEY_LENGTH = 32


def check(config) -> None:
    """Raise ``RuntimeError`` for an unsafe production configuration (no-op otherwise)."""
    if not config.get("REQUIRE_SECURE_SETTINGS"):
        return
    key = config.get("SECRET_KEY")
    if not key:
        raise RuntimeError(
            "SECRET_KEY is not set: PROFREG_CONFIG=production refuses to start without one. "
            "Set SECRET_KEY to a random value of at least 32 characters, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'.")
    if str(key) in PUBLIC_KEYS:
        raise RuntimeError(
            "SECRET_KEY is the public development value: PROFREG_CONFIG=production refuses to start with it "
            "(anyone could forge session cookies). Set SECRET_KEY to a random value of at least 32 characters.")
    if len(str(key)) < MIN_KEY_LENGTH:
        raise RuntimeError(
            f"SECRET_KEY is shorter than {MIN_KEY_LENGTH} characters: PROFREG_CONFIG=production refuses to "
            "start with it. Set SECRET_KEY to a random value of at least 32 characters.")
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if not config.get(name):
            raise RuntimeError(f"{name} is off: production cookies must be sent over HTTPS only.")
