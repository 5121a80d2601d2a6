"""Password hashing: the cost profile comes from ``PASSWORD_HASH_PROFILE`` (production: a real cost;
tests: argon2's cheapest), and a hash made under any profile verifies under any other."""
from __future__ import annotations

import pytest
from argon2 import extract_parameters, profiles

from profreg.auth.passwords import hash_password, profile_parameters, verify_password


def _production_app(**overrides):
    from config import ProductionConfig
    from profreg import create_app

    settings = type("Prod", (ProductionConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "p" * 40, **overrides})
    return create_app(settings)


def test_production_hashes_at_a_real_cost():
    from config import DefaultConfig, ProductionConfig

    assert ProductionConfig.PASSWORD_HASH_PROFILE == DefaultConfig.PASSWORD_HASH_PROFILE == "RFC_9106_LOW_MEMORY"
    prod = _production_app()
    assert not prod.testing
    with prod.app_context():
        params = extract_parameters(hash_password("Correct-Horse-42"))
    assert params == profiles.RFC_9106_LOW_MEMORY
    assert params.memory_cost >= 64 * 1024 and params.time_cost >= 3  # 64 MiB, three passes


def test_production_refuses_the_test_only_profile():
    with _production_app(PASSWORD_HASH_PROFILE="CHEAPEST").app_context():
        with pytest.raises(RuntimeError, match="for tests only"):
            hash_password("Correct-Horse-42")


def test_the_suite_hashes_cheaply(app):
    assert app.config["PASSWORD_HASH_PROFILE"] == "CHEAPEST"
    assert extract_parameters(hash_password("x")) == profiles.CHEAPEST


def test_any_profiles_hash_verifies_under_any_configuration(app):
    cheap = hash_password("Correct-Horse-42")  # this app: CHEAPEST
    app.config["PASSWORD_HASH_PROFILE"] = "RFC_9106_LOW_MEMORY"
    try:
        costly = hash_password("Correct-Horse-42")
        assert verify_password(cheap, "Correct-Horse-42") and verify_password(costly, "Correct-Horse-42")
    finally:
        app.config["PASSWORD_HASH_PROFILE"] = "CHEAPEST"
    assert verify_password(costly, "Correct-Horse-42") and verify_password(cheap, "Correct-Horse-42")
    assert not verify_password(costly, "wrong") and not verify_password(cheap, "wrong")
    assert not verify_password("not-a-hash", "Correct-Horse-42")


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="not an argon2 profile"):
        profile_parameters("FAST")
    with pytest.raises(ValueError):
        profile_parameters("Parameters")
