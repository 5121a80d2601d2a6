from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired()])  # the rule: auth.services.validate_new_password
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class CodeForm(FlaskForm):
    """The second step of a sign-in, the confirmation of an enrolment, a new set of recovery codes."""
    code = StringField(_l("Sign-in code"), validators=[DataRequired()],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True,
                                  "maxlength": 64})


class DisableTotpForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired()])
    code = StringField(_l("Sign-in code"), validators=[DataRequired()],
                       render_kw={"autocomplete": "one-time-code", "maxlength": 64})
