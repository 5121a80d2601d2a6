"""Forms of the training-list views (Flask-WTF, so every POST carries the CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..admin.dateinput import LocalDateField
from ..hygiene import InputHygiene


class FlaskForm(InputHygiene, _FlaskForm):
    """Flask-WTF form with the register's input hygiene (profreg/hygiene.py)."""


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class BuildForm(FlaskForm):
    """Rules and parameters (switchable), filters and the period of a new list."""

    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=7)],
                         description=_l("A quarter such as 2027Q1, or a year such as 2027"))
    cert_expiring = BooleanField(_l("Certificate ends within N months"), default=True)
    cert_months = IntegerField(_l("N, months"), default=6, validators=[InputRequired(), NumberRange(1, 60)])
    include_expired = BooleanField(_l("Also certificates that have already ended"), default=False)
    cpd_deficit = BooleanField(_l("CPD deficit in the current certification cycle"), default=True)
    cpd_pro_rata = BooleanField(_l("Compare with the share of the requirement expected by now"), default=True)
    no_training = BooleanField(_l("No advanced training for Y years"), default=True)
    no_training_years = IntegerField(_l("Y, years"), default=5, validators=[InputRequired(), NumberRange(1, 30)])
    new_role = BooleanField(_l("New position or specialty without its certification course"), default=True)
    new_role_months = IntegerField(_l("Started within M months"), default=12,
                                   validators=[InputRequired(), NumberRange(1, 60)])
    position_id = SelectField(_l("Position"), coerce=_int_or_none, validators=[Optional()])
    specialty_id = SelectField(_l("Specialty"), coerce=_int_or_none, validators=[Optional()])
    department = SelectField(_l("Department"), validators=[Optional()])


class AddForm(FlaskForm):
    iin = StringField(_l("IIN"), validators=[DataRequired(), Length(min=12, max=12)])
    note = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class RemoveForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class CompleteForm(FlaskForm):
    activity_type_id = SelectField(_l("Activity type"), coerce=int, validators=[DataRequired()])
    provider = StringField(_l("Provider"), validators=[DataRequired(), Length(max=255)])
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=255)])
    start_date = LocalDateField(_l("Start date"), validators=[DataRequired()])
    end_date = LocalDateField(_l("End date"), validators=[DataRequired()])
    hours = DecimalField(_l("Hours"), places=1, validators=[DataRequired(), NumberRange(min=0.1, max=9999)])
    credits = DecimalField(_l("Credits"), places=1, validators=[Optional(), NumberRange(min=0, max=9999)])
    certificate_number = StringField(_l("Certificate number"), validators=[Optional(), Length(max=64)])
