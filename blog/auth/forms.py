"""Forms of the auth area (Flask-WTF: validation and CSRF)."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import LazyString
from flask_babel import gettext as _
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
from ..content.urls import MAX_BASE_URL_LENGTH, base_url_problem
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


def _a_base_url(form: object, field: StringField) -> None:
    value = (field.data or "").strip()
    problem = base_url_problem(value)
    if problem == "long":
        raise ValidationError(_("At most %(n)s characters.", n=MAX_BASE_URL_LENGTH))
    if problem == "hidden":
        raise ValidationError(_("The address contains a space or an invisible character."))
    if problem == "scheme":
        raise ValidationError(_("The address must start with https:// or http://."))
    if problem:
        raise ValidationError(
            _("Give only where readers reach the blog, such as https://news.example.kr: "
               "no user name, ?query or #fragment.")
        )  # fmt: skip


# What the engines' codes are made of (Google's, Naver's and Bing's alike).
_CODE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_VERIFICATION_CODE_LENGTH = 100


def _a_verification_code(form: object, field: StringField) -> None:
    value = (field.data or "").strip()
    if len(value) > MAX_VERIFICATION_CODE_LENGTH or not set(value) <= _CODE_CHARACTERS:
        raise ValidationError(
            _('Paste only the code, the content="…" of the meta tag the search engine gives: '
               "letters, digits, - and _, at most %(n)s.", n=MAX_VERIFICATION_CODE_LENGTH)
        )  # fmt: skip


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
    base_url = StringField(_l("Public address"), validators=[_a_base_url])
    article_schema = SelectField(
        _l("Articles are"),
        choices=[SelectChoice("NewsArticle", _l("News articles (NewsArticle)")),
                 SelectChoice("BlogPosting", _l("Blog posts (BlogPosting)"))],
    )  # fmt: skip
    google_site_verification = StringField(
        _l("Google site verification"), validators=[_a_verification_code]
    )
    naver_site_verification = StringField(
        _l("Naver site verification"), validators=[_a_verification_code]
    )
    bing_site_verification = StringField(
        _l("Bing site verification"), validators=[_a_verification_code]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(zone, zone) for zone in sorted(available_timezones())]
