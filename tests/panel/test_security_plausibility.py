"""Issue 18, item 8: implausible input is refused with a field error (birth year 1850, dates in 2999,
negative credits or years, an invalid user e-mail, integers beyond the database's range), and
bidirectional-control and zero-width characters are stripped from names."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from profreg.errors import DomainError
from tests.panel.conftest import token


def test_a_birth_year_before_1900_is_refused():
    from profreg.workers.services import worker_errors

    assert "birth_date" in worker_errors(iin=None, birth_date=date(1850, 1, 1), sex=None, citizenship_code=None)


def test_hiring_beyond_the_age_of_100_or_far_in_the_future_is_refused():
    from profreg.workers.services import employment_errors

    assert "hire_date" in employment_errors(birth_date=date(1920, 1, 1), hire_date=date(2026, 1, 1), end_date=None)
    assert "hire_date" in employment_errors(birth_date=date(1990, 1, 1), hire_date=date(2999, 1, 1), end_date=None)
    assert employment_errors(birth_date=date(1990, 1, 1), hire_date=date(2026, 1, 1), end_date=None) == {}


@pytest.mark.parametrize("value,ok", [("2999-01-01", False), ("1850-01-01", False), ("2026-05-01", True)])
def test_dates_beyond_50_years_or_before_1900_are_field_errors(value, ok):
    from wtforms import DateField, Form

    from profreg.hygiene import field_errors

    class F(Form):
        d = DateField()

    from werkzeug.datastructures import MultiDict

    form = F(MultiDict({"d": value}))
    form.validate()
    assert (field_errors(form.d) == []) is ok


@pytest.mark.parametrize("value,ok", [("-1", False), ("2147483648", False), ("12", True), ("0", True)])
def test_negative_and_out_of_range_integers_are_field_errors(value, ok):
    from werkzeug.datastructures import MultiDict
    from wtforms import Form, IntegerField

    from profreg.hygiene import field_errors

    class F(Form):
        n = IntegerField()

    form = F(MultiDict({"n": value}))
    form.validate()
    assert (field_errors(form.n) == []) is ok


def test_bidi_and_zero_width_characters_are_stripped_from_text():
    from werkzeug.datastructures import MultiDict
    from wtforms import Form, StringField

    from profreg.hygiene import InputHygiene

    class F(InputHygiene, Form):
        surname = StringField()

    form = F(MultiDict({"surname": "Аса\u202eнов\u200b\ufeff"}))
    assert form.validate()
    assert form.surname.data == "Асанов"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "x@@clinic.kz", "user@clinic..kz", "user name@clinic.kz"])
def test_an_invalid_user_email_is_refused(factory, email):
    from profreg.auth.services import create_user

    with pytest.raises(DomainError):
        create_user(email, "ministry", "Valid-Long-Passphrase-9")


def test_the_users_panel_refuses_an_invalid_email(world, make_client):
    from profreg.auth.models import User

    admin = make_client(world.users["admin"])
    r = admin.post("/admin/users/new/", data={
        "csrf_token": token(admin), "email": "nobody-at-all", "role": "ministry", "active": "y",
        "new_password": "Valid-Long-Passphrase-9"})
    assert r.status_code == 200
    world.db.session.expire_all()
    assert world.db.session.execute(select(User).where(User.email == "nobody-at-all")).first() is None
