from datetime import date

import pytest
from flask_babel import force_locale

from profreg.identity import (
    IdentityError,
    make_bin,
    make_iin,
    mask_iin,
    parse_iin,
    validate_bin,
    validate_iin,
)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English whatever locale earlier tests left behind."""
    with force_locale("en"):
        yield


@pytest.mark.parametrize("iin,born,sex", [
    ("850315300019", date(1985, 3, 15), "M"),
    ("870412400711", date(1987, 4, 12), "F"),
    ("000229600074", date(2000, 2, 29), "F"),
])
def test_valid_iins(iin, born, sex):
    info = parse_iin(iin)
    assert (info.birth_date, info.sex, info.resident) == (born, sex, True)
    assert validate_iin(iin, birth_date=born, sex=sex, citizenship_code="KZ").iin == iin


@pytest.mark.parametrize("iin,reason", [
    ("850315300018", "check digit"),
    ("850230300017", "does not exist"),
    ("010229500016", "does not exist"),
    ("850315700014", "digit 7"),
    ("85031530001", "12 digits"),
    ("8503153000a9", "12 digits"),
])
def test_invalid_iins(iin, reason):
    with pytest.raises(IdentityError) as exc:
        parse_iin(iin)
    assert reason in str(exc.value)


def test_iin_must_agree_with_birth_date_and_sex():
    with pytest.raises(IdentityError, match="date of birth"):
        validate_iin("850315300019", birth_date=date(1985, 3, 16), sex="M")
    with pytest.raises(IdentityError, match="sex"):
        validate_iin("850315300019", birth_date=date(1985, 3, 15), sex="F")


def test_non_resident_iin_only_for_foreign_citizens():
    iin = None
    for serial in range(1, 50):  # digit 7 = 0: build one with a valid check digit
        from profreg.identity import check_digit

        first = f"850315{0}{serial:04d}"
        cd = check_digit(first)
        if cd is not None:
            iin = first + str(cd)
            break
    with pytest.raises(IdentityError, match="non-residents"):
        validate_iin(iin, citizenship_code="KZ")
    info = validate_iin(iin, birth_date=date(1990, 1, 1), sex="F", citizenship_code="RU")
    assert info.resident is False and info.birth_date is None


@pytest.mark.parametrize("bin_", ["150440001236", "940140000385"])
def test_valid_bins(bin_):
    assert validate_bin(bin_) == bin_


@pytest.mark.parametrize("bin_", ["150440001235", "151340001236", "150470001236", "150449001236"])
def test_invalid_bins(bin_):
    with pytest.raises(IdentityError):
        validate_bin(bin_)


def test_generators_make_valid_numbers():
    for serial in range(1, 300):
        iin = make_iin(date(1999, 12, 31), "F", serial)
        if iin:
            info = parse_iin(iin)
            assert info.birth_date == date(1999, 12, 31) and info.sex == "F"
        b = make_bin(2015, 4, serial)
        if b:
            assert validate_bin(b) == b


def test_mask():
    assert mask_iin("850315300019") == "••••••••0019"
