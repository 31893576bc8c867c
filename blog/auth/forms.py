"""Forms of the auth area (Flask-WTF: validation and CSRF)."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..content.people import MAX_BIO_LENGTH, role_label
from ..i18n import LANGUAGES
from ..models import Role
from .accounts import AccountError, check_new_password

ROLE_CHOICES = [
    SelectChoice(role.value, LazyString(role_label, role))
    for role in (Role.CONTRIBUTOR, Role.AUTHOR, Role.EDITOR, Role.ADMIN)
]
LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGES.items()]


class LoginForm(FlaskForm):
    login = StringField(_l("User name or e-mail"), validators=[InputRequired()])
    password = PasswordField(_l("Password"), validators=[InputRequired()])
    remember = BooleanField(_l("Keep me signed in"))


def _strong_enough(form: object, field: PasswordField) -> None:
    try:
        check_new_password(field.data or "")
    except AccountError as error:
        raise ValidationError(str(error)) from None


class NewPasswordMixin:
    password = PasswordField(_l("New password"), validators=[InputRequired(), _strong_enough])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired()])


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name shown on posts"), validators=[Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    # Length and content are checked by update_profile, which keeps the text on refusal.
    bio = TextAreaField(
        _l("Short bio"),
        description=_l("Shown under your name on your posts; at most %(n)s characters.",
                       n=MAX_BIO_LENGTH),
    )  # fmt: skip
    avatar = StringField(
        _l("Picture"),
        description=_l("An image from the media library or an https:// address."),
    )
    language = SelectField(
        _l("Interface language"),
        choices=[SelectChoice("", _l("As the site")), *LANGUAGE_CHOICES],
        validators=[Optional()],
    )


class NewUserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[InputRequired(), Length(max=80)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    display_name = StringField(_l("Name shown on posts"), validators=[Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.AUTHOR.value)


class UserRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active"))


class SettingsForm(FlaskForm):
    title = StringField(_l("Blog title"), validators=[InputRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=500)])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    timezone = SelectField(_l("Time zone"), choices=[])
    posts_per_page = IntegerField(
        _l("Posts per page"), validators=[InputRequired(), NumberRange(min=1, max=100)]
    )
    writers_may_add_terms = BooleanField(
        _l("Contributors and authors may add new categories and tags by typing them")
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(zone, zone) for zone in sorted(available_timezones())]
