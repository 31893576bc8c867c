from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import Field

from .. import audit
from ..content.people import role_label
from ..content.settings import VERIFICATION_SETTINGS, set_setting, site_settings
from ..content.urls import local_path
from ..database import writing
from ..extensions import db
from ..htmx import render
from ..models import AuditEvent, Role, User
from ..paging import page_number
from ..security import public_url
from . import bp
from .accounts import (
    AccountError,
    authenticate,
    check_password,
    create_reset_link_token,
    create_user,
    find_reset,
    find_user,
    generate_password,
    new_password,
    set_password,
    update_profile,
    use_reset,
)
from .forms import (
    ChangePasswordForm,
    LoginForm,
    NewUserForm,
    ProfileForm,
    ResetPasswordForm,
    SettingsForm,
    UserRoleForm,
)
from .permissions import require_role
from .sessions import current_session_id, end_all_sessions, end_session, start_session
from .throttle import account_key, refund, take_ticket


def _field_of(form: FlaskForm, error: AccountError, default: str) -> Field:
    """The field of `form` that `error` is about (`default` when it names none of them)."""
    field = form._fields.get(error.field or "")
    return field if field is not None else form[default]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = LoginForm()
    next_url = local_path(request.values.get("next")) or url_for("editor.dashboard")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        typed = form.login.data or ""
        ticket = take_ticket(account_key(find_user(typed), typed), request.remote_addr or "")
        if ticket is None:
            form.form_errors.append(
                _("Too many failed attempts. Wait 15 minutes, or sign in from another place.")
            )
            return render("auth/login.html", status=429, form=form, next_url=next_url)
        user = authenticate(typed, form.password.data or "")
        if user is not None:
            refund(ticket)
            start_session(user, remember=form.remember.data)
            return redirect(next_url, code=303)
        # The same words whether the account exists or not.
        form.form_errors.append(_("The name or password is not right."))
    return render("auth/login.html", status=status, form=form, next_url=next_url)


@bp.post("/logout")
def logout() -> Response:
    end_session()
    flash(_("You are signed out."))
    return redirect(url_for("public.index"), code=303)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response:
    profile = ProfileForm(obj=current_user, prefix="profile")
    password = ChangePasswordForm(prefix="password")
    status = 200
    if "profile-submit" in request.form and profile.validate_on_submit():
        try:
            update_profile(
                current_user, profile.display_name.data or "", profile.email.data or "",
                profile.language.data or None, bio=profile.bio.data or "",
                avatar=profile.avatar.data or "",
            )  # fmt: skip
        except AccountError as error:
            _field_of(profile, error, "email").errors = [str(error)]
        else:
            flash(_("Your profile is saved."))
            return redirect(url_for("auth.account"), code=303)
    if "password-submit" in request.form and password.validate_on_submit():
        # A stolen session cookie must not become a free password-guessing machine.
        ticket = take_ticket(account_key(current_user, ""), request.remote_addr or "")
        if ticket is None:
            password.current_password.errors = [_("Too many failed attempts. Wait 15 minutes.")]
        elif not check_password(current_user, password.current_password.data or ""):
            password.current_password.errors = [_("This is not your current password.")]
        else:
            refund(ticket)
            try:
                chosen = new_password(password.password.data or "", current_user.username)
                with writing():
                    set_password(current_user, chosen, keep_session=current_session_id())
            except AccountError as error:
                password.password.errors = [str(error)]
            else:
                flash(_("Your password is changed; other sessions were signed out."))
                return redirect(url_for("auth.account"), code=303)
    if request.method == "POST":
        status = 422
    return render("auth/account.html", status=status, profile=profile, password=password,
                  role=role_label(current_user.role))  # fmt: skip


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response:
    with writing():
        end_all_sessions(current_user)
    end_session()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response:
    reset = find_reset(token)
    if reset is None:
        return render("auth/reset.html", status=410, form=None)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            chosen = new_password(form.password.data or "", reset.user.username)
            with writing():
                use_reset(token, chosen)
        except AccountError as error:
            form.form_errors.append(str(error))
        else:
            flash(_("Your new password is set. Please sign in."))
            return redirect(url_for("auth.login"), code=303)
    return render("auth/reset.html", status=422 if request.method == "POST" else 200, form=form)


# -- administration -------------------------------------------------------------------


@bp.route("/admin/users", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def users() -> Response:
    form = NewUserForm()
    created: tuple[User, str] | None = None
    if form.validate_on_submit():
        password = generate_password()
        try:
            hashed = new_password(password)
            with writing():
                user = create_user(
                    form.username.data or "",
                    hashed,
                    Role(form.role.data),
                    email=form.email.data or None,
                    display_name=form.display_name.data or "",
                )
                audit.record(current_user, "user.create", user.username, role=user.role)
        except AccountError as error:
            _field_of(form, error, "username").errors = [str(error)]
        else:
            created = (user, password)
            form = NewUserForm(formdata=None)
    status = 422 if request.method == "POST" and created is None else 200
    everyone = db.session.execute(select(User).order_by(User.username)).scalars().all()
    return render(
        "auth/users.html", status=status, form=form, users=everyone, created=created,
        role_form=UserRoleForm,
    )  # fmt: skip


@bp.post("/admin/users/<int:user_id>")
@require_role(Role.ADMIN)
def update_user(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    form = UserRoleForm()
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id and (form.role.data != Role.ADMIN or not form.active.data):
        flash(_("You cannot take away your own administrator rights."), "error")
        return redirect(url_for("auth.users"), code=303)
    with writing():
        if form.role.data != user.role:
            audit.record(current_user, "user.role", user.username, old=user.role,
                         new=form.role.data)  # fmt: skip
            user.role = form.role.data
        if bool(form.active.data) != user.active:
            user.active = bool(form.active.data)
            audit.record(
                current_user, "user.activate" if user.active else "user.deactivate", user.username
            )
            if not user.active:
                end_all_sessions(user)
    flash(_("%(name)s is updated.", name=user.username))
    return redirect(url_for("auth.users"), code=303)


@bp.post("/admin/users/<int:user_id>/reset-link")
@require_role(Role.ADMIN)
def reset_link(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    with writing():
        token = create_reset_link_token(user, current_user)
        audit.record(current_user, "user.reset_link", user.username)
    link = public_url(url_for("auth.reset_password", token=token))
    return render("auth/reset_link.html", user=user, link=link)


@bp.post("/admin/users/<int:user_id>/sign-out")
@require_role(Role.ADMIN)
def sign_out_user(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    keep = current_session_id() if user.id == current_user.id else None
    with writing():
        ended = end_all_sessions(user, keep=keep)
        audit.record(current_user, "user.sign_out", user.username, sessions=ended)
    flash(_("%(name)s is signed out everywhere.", name=user.username))
    return redirect(url_for("auth.users"), code=303)


@bp.route("/admin/settings", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def settings() -> Response:
    form = SettingsForm(data=site_settings())
    if form.validate_on_submit():
        with writing():
            for key in ("title", "description", "language", "timezone", "posts_per_page",
                        "writers_may_add_terms", "article_schema"):  # fmt: skip
                set_setting(key, getattr(form, key).data)
            # Stored as written links append a path to it: no outer spaces, no final /.
            set_setting("base_url", (form.base_url.data or "").strip().rstrip("/"))
            for key in VERIFICATION_SETTINGS:
                set_setting(key, (getattr(form, key).data or "").strip())
            audit.record(current_user, "settings.change", "site")
        flash(_("The settings are saved."))
        return redirect(url_for("auth.settings"), code=303)
    return render("auth/settings.html", status=422 if request.method == "POST" else 200, form=form)


@bp.get("/admin/audit")
@require_role(Role.ADMIN)
def audit_log() -> Response:
    events = db.paginate(
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()),
        page=page_number(), per_page=50, error_out=False,
    )  # fmt: skip
    return render("auth/audit.html", events=events)
