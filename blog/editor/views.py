from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from .. import clock
from ..auth.permissions import require_role
from ..content.labels import save_label
from ..content.markdown_worker import RenderFailed, RenderTooSlow
from ..content.markup import RenderBusy, editable_html_within_budget, render_preview
from ..content.media import UploadError, image_snippet, library_entry, upload_image
from ..content.permissions import (
    WRITER_STATUSES,
    can_edit,
    can_restore,
    can_review,
    sees_everyones_work,
    statuses_for,
)
from ..content.posts import post_path, unique_post_slug
from ..content.publish import (
    MAX_TITLE_LENGTH,
    EditConflict,
    InvalidFields,
    NotAllowed,
    PostGone,
    empty_trash,
    fields_of,
    latest_revision,
    line_diff,
    max_body_length,
    restore_post,
    restore_revision,
    revisions_of,
    save_fields,
    send_back,
    trash_post,
    validate,
)
from ..content.review import review_queue
from ..content.settings import site_zone
from ..content.working_copies import discard_working_copy, load_working_copy, store_working_copy
from ..extensions import db, login_manager
from ..htmx import is_fragment_request, render, render_fragment
from ..models import (
    Category,
    Post,
    PostStatus,
    Revision,
    Role,
    SourceFormat,
    User,
    post_categories,
)
from ..paging import page_number
from ..routing import form_id
from ..templating import local_date
from . import bp
from .confirm import ask, confirmed
from .forms import STATUS_CHOICES, PostForm
from .media import already_stored_message, clean_image_text

EDIT_TEMPLATE = "editor/edit.html"


@bp.before_request
def _signed_in_only() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _editable_post(post_id: int, trashed_too: bool = False) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or (post.deleted_at is not None and not trashed_too):
        abort(404)
    if not can_edit(current_user, post):
        abort(403)
    return post


def _visible_posts_query(trashed: bool = False) -> Any:
    query = select(Post).where(
        Post.deleted_at.is_not(None) if trashed else Post.deleted_at.is_(None)
    )
    if not sees_everyones_work(current_user):
        query = query.where(Post.author_id == current_user.id)
    return query


def _filter_categories() -> list[Category]:
    """The categories of posts the user may see: others' drafts do not show through."""
    query = select(Category).order_by(Category.name)
    if not sees_everyones_work(current_user):
        own = _visible_posts_query().with_only_columns(Post.id)
        query = query.where(Category.id.in_(
            select(post_categories.c.category_id).where(post_categories.c.post_id.in_(own))
        ))  # fmt: skip
    return list(db.session.execute(query).scalars())


@bp.get("/")
def dashboard() -> Response:
    query = _visible_posts_query().options(selectinload(Post.author), selectinload(Post.categories))
    filters = {
        key: request.args.get(key, "").strip() for key in ("status", "author", "category", "q")
    }
    if filters["status"] in {status.value for status in PostStatus}:
        # By the status readers see: a scheduled post whose time came is published.
        query = query.where(Post.in_status(PostStatus(filters["status"]), clock.now()))
    else:
        filters["status"] = ""
    if (author_id := form_id(filters["author"])) is not None:
        query = query.where(Post.author_id == author_id)
    if filters["category"]:
        query = query.where(Post.categories.any(Category.slug == filters["category"]))
    if filters["q"]:
        # Titles are at most 500 characters: a longer search finds nothing anyway.
        filters["q"] = filters["q"][:MAX_TITLE_LENGTH]
        query = query.where(Post.title.contains(filters["q"], autoescape=True))
    page = db.paginate(
        query.order_by(Post.updated_at.desc(), Post.id.desc()),
        page=page_number(), per_page=30, error_out=False,
    )  # fmt: skip
    authors = db.session.execute(select(User).order_by(User.username)).scalars().all()
    return render(
        "editor/dashboard.html", block="post_table", page=page, filters=filters,
        authors=authors, categories=_filter_categories(), statuses=list(PostStatus),
        review_queue=review_queue(current_user) if not is_fragment_request() else [],
    )  # fmt: skip


def preview_of(source: str, source_format: str | None) -> tuple[str, str]:
    """(HTML, problem): the body as publishing would render it, or why it cannot be."""
    if len(source) > max_body_length():
        return "", _("The body is longer than %(limit)s characters; it cannot be shown.",
                     limit=f"{max_body_length():,}")  # fmt: skip
    try:
        return render_preview(source, SourceFormat.parse(source_format)), ""
    except RenderFailed as error:
        return "", render_problem(error)


def _try_again() -> str:
    return _("The text could not be rendered just now; your text is kept. Try again.")


def render_problem(error: RenderFailed) -> str:
    """What to tell a writer whose text could not be rendered."""
    if isinstance(error, RenderBusy):
        return _("Many previews are being made right now; yours follows when you next pause.")
    if isinstance(error, RenderTooSlow):
        return _("This text takes too long to render: thousands of brackets, headings or list "
                 "levels in a row? Simplify that part; your text is kept.")  # fmt: skip
    return _try_again()


def _edit_page(form: PostForm, post: Post | None, status: int = 200, **context: Any) -> Response:
    key = str(post.id) if post else "new"
    working = load_working_copy(current_user, key) if request.method == "GET" else None
    if working is not None and post is not None and working.saved_at <= post.updated_at:
        working = None  # older than the post itself: nothing to offer
    if request.method == "GET" and post is not None and not request.args.get("restore"):
        preview_html, preview_problem = post.body_html, ""  # rendered when it was saved
    else:
        preview_html, preview_problem = preview_of(form.body.data or "", form.format.data)
    allowed = _offer_choices(form, post)
    return render(
        EDIT_TEMPLATE, status=status, form=form, post=post, post_key=key, working=working,
        preview_html=preview_html, preview_problem=preview_problem,
        writer_only=not set(allowed) - set(WRITER_STATUSES),
        save_labels=_save_labels(allowed, post),
        can_review=can_review(current_user) and post is not None
        and post.status == PostStatus.PENDING,
        **context,
    )  # fmt: skip


def _save_labels(allowed: list[str], post: Post | None) -> dict[str, str]:
    """The primary button's words for each status the user may choose."""
    public_now = post is not None and post.is_public(clock.now())
    labels = {value: save_label(value, public_now) for value in allowed}
    if post is not None and post.status == PostStatus.PENDING:
        # Saving a submitted post as a draft takes it out of the desk's queue: say so.
        labels[PostStatus.DRAFT.value] = _("Take back as a draft")
    return labels


def _offer_choices(form: PostForm, post: Post | None) -> list[str]:
    """Offer only the statuses this user may set (returned), and to editors every active
    user as the author."""
    allowed = [s.value for s in statuses_for(current_user, post or Post(author_id=current_user.id))]
    form.status.choices = [c for c in STATUS_CHOICES if c.value in allowed]
    if sees_everyones_work(current_user):
        users = db.session.execute(
            select(User).where(User.active.is_(True)).order_by(User.username)
        ).scalars()
        form.author.choices = [(str(user.id), user.name) for user in users]
        current = post.author if post is not None else current_user
        if current is not None and not current.active:
            form.author.choices.insert(0, (str(current.id), current.name))
    return allowed


def _attach_image(form: PostForm) -> str | None:
    """Store an image sent with the post form and add it, described, to the end of the body.

    Returns why the image was not added, if it was not. An image without alt text (its own
    or the library entry's) is stored and waits in attachment_url until the writer says
    what it shows and saves again.
    """
    upload = form.attachment.data
    pending = form.attachment_url.data or ""
    if not (upload and getattr(upload, "filename", "")) and not pending:
        return None
    text = clean_image_text(form, "attachment_alt", "attachment_caption")
    if text is None:
        return " ".join(form.attachment_alt.errors + form.attachment_caption.errors)
    if upload and getattr(upload, "filename", ""):
        try:
            stored = upload_image(upload.read(), upload.filename, current_user.id,
                                  current_app.config["MAX_UPLOAD_BYTES"], *text)  # fmt: skip
        except UploadError as error:
            return str(error)
        if stored.existing:
            flash(already_stored_message(stored))
    else:
        found = library_entry(pending, current_user.id)
        if found is None:
            form.attachment_url.data = ""
            return _("The image attached before is no longer in the library; attach it again.")
        stored = found
    alt, caption = text[0] or stored.alt, text[1] or stored.caption
    if not alt:
        form.attachment_url.data = stored.url
        return _("“%(name)s” is stored but not yet in the body: say what it shows in “Alt text” "
                 "(for readers who cannot see it), then save again.", name=stored.name)  # fmt: skip
    snippet = image_snippet(stored.url, alt, caption, form.format.data or "markdown")
    form.body.data = (form.body.data or "").rstrip("\n") + "\n\n" + snippet + "\n"
    form.attachment_url.data = form.attachment_alt.data = form.attachment_caption.data = ""
    return None


def _save(form: PostForm, post: Post | None) -> Response:
    # Stored first: even if the post is refused, the image is kept and already in the body.
    attach_error = _attach_image(form)
    fields = form.to_fields(site_zone())
    errors = validate(fields, post, current_user)
    form_valid = form.validate()
    if attach_error:
        form.attachment.errors = [attach_error]
    if errors or not form_valid or attach_error:
        for name, message in errors.items():
            # The form's own check of a field (a choice, a date) already says it.
            if not getattr(form, name).errors:
                getattr(form, name).errors = [message]
        return _edit_page(form, post, status=422)
    was_status = post.effective_status(clock.now()) if post else None
    try:
        saved = save_fields(post, fields, current_user, form.base_version())
    except NotAllowed:
        abort(403)
    except RenderFailed as error:
        form.body.errors = [render_problem(error)]
        return _edit_page(form, post, status=422)
    except PostGone:
        form.form_errors.append(
            _("This post was moved to the trash while you were editing; nothing was saved. "
              "Your text is below: copy it, or ask an editor to restore the post.")
        )  # fmt: skip
        return _edit_page(form, post, status=409)
    except EditConflict as conflict:
        theirs = conflict.post
        # The form now carries their version: saving again after merging by hand succeeds.
        form.version.data = str(theirs.version)
        theirs_fields = fields_of(theirs)
        return _edit_page(
            form, theirs, status=409, conflict=theirs_fields,
            conflict_author=_last_editor(theirs), diff=line_diff(theirs_fields.body, fields.body),
        )  # fmt: skip
    discard_working_copy(current_user, str(post.id) if post else "new")
    flash(_saved_message(saved, was_status))
    return redirect(url_for("editor.edit_post", post_id=saved.id), code=303)


def _saved_message(post: Post, was_status: str | None) -> str:
    """What the save did, in the words of the button that did it."""
    status = post.effective_status(clock.now())
    if status == was_status or (was_status is None and status == PostStatus.DRAFT):
        return _("Saved.")
    if status == PostStatus.PENDING:
        return _("Submitted for review: an editor publishes it or sends it back with a note.")
    if status == PostStatus.PUBLISHED:
        return _("Published.")
    if status == PostStatus.SCHEDULED:
        when = local_date(post.published_at, "%Y-%m-%d %H:%M")
        return _("Scheduled for %(time)s.", time=when)
    if status == PostStatus.UNLISTED:
        return _("Published by link: it is not listed on the site.")
    if was_status == PostStatus.PENDING:
        return _("Taken back from review and saved as a draft.")
    return _("Saved as a draft.")


def _last_editor(post: Post) -> User | None:
    latest = latest_revision(post)
    return latest.author if latest else None


@bp.route("/posts/new", methods=["GET", "POST"])
def new_post() -> Response:
    form = PostForm()
    if request.method == "POST":
        return _save(form, None)
    if request.args.get("restore") and (working := load_working_copy(current_user, "new")):
        form = PostForm(formdata=working.as_formdata())
    return _edit_page(form, None)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
def edit_post(post_id: int) -> Response:
    # A save of a post trashed meanwhile comes back with the text (see _save), not a 404.
    post = _editable_post(post_id, trashed_too=request.method == "POST")
    form = PostForm()
    if request.method == "POST":
        return _save(form, post)
    if request.args.get("restore") and (working := load_working_copy(current_user, str(post.id))):
        form = PostForm(formdata=working.as_formdata())
    else:
        form.fill(fields_of(post), post.version, site_zone())
        if can_review(current_user) and post.status == PostStatus.PENDING:
            # The desk opened a submitted post to publish it: the button says Publish.
            form.status.data = PostStatus.PUBLISHED.value
    return _edit_page(form, post)


@bp.post("/posts/<post_key:post_key>/autosave")
def autosave(post_key: str) -> Response:
    if post_key != "new":
        _editable_post(int(post_key))
    if sum(len(value) for value in request.form.values()) > max_body_length() + 100_000:
        message = _("The text is too long to keep a copy of; your text is still here.")
        return Response(message, status=413)
    try:
        working = store_working_copy(current_user, post_key, request.form)
    except OperationalError:
        db.session.rollback()
        return Response(_("Could not keep a copy just now; your text is still here."), status=503)
    if not is_fragment_request():
        return Response(status=204)  # sendBeacon on leaving the page reads no answer
    return render(EDIT_TEMPLATE, block="save_status", working=working, autosaved=True)


@bp.post("/posts/<post_key:post_key>/autosave/discard")
def discard_autosave(post_key: str) -> Response:
    discard_working_copy(current_user, post_key)
    target = (
        url_for("editor.new_post")
        if post_key == "new"
        else url_for("editor.edit_post", post_id=int(post_key))
    )
    return redirect(target, code=303)


@bp.post("/preview")
def preview() -> Response:
    """Rendered by exactly the renderer and sanitiser that publishing uses."""
    html, problem = preview_of(request.form.get("body", ""), request.form.get("format"))
    title = request.form.get("title", "")
    return render("editor/preview.html", block="preview", preview_html=html,
                  preview_problem=problem, title=title)  # fmt: skip


@bp.post("/posts/editable-html")
def editable_html() -> Response:
    """The body as the visual editor opens it (markup.editable_html), for the editor's script:
    {"html": ...}, or {"problem": ...} with the reason the writer is shown."""
    source = request.form.get("body", "")
    if len(source) > max_body_length():
        problem = _("The body is longer than %(limit)s characters; it cannot be shown.",
                    limit=f"{max_body_length():,}")  # fmt: skip
        return jsonify(problem=problem), 413
    try:
        html = editable_html_within_budget(source, SourceFormat.parse(request.form.get("format")))
    except RenderFailed as error:
        # Busy: unlike the preview, nothing follows by itself here, so the writer asks again.
        busy = isinstance(error, RenderBusy)
        return jsonify(problem=_try_again() if busy else render_problem(error)), 503
    except ValueError:  # what failed inside the render worker
        return jsonify(problem=_try_again()), 503
    return jsonify(html=html)


@bp.get("/slug-suggestion")
def slug_suggestion() -> Response:
    """The address a title would get; free among the posts this user may know of."""
    post_id = form_id(request.args.get("post_id"))
    source = request.args.get("slug") or request.args.get("title") or ""
    visible_to = None if sees_everyones_work(current_user) else current_user
    slug = unique_post_slug(source, post_id, visible_to) if source.strip() else ""
    # A fragment with or without htmx: it is only ever asked for by the editor's script.
    return render_fragment(EDIT_TEMPLATE, "slug_hint", suggested_slug=slug, post_path=post_path)


@bp.post("/posts/validate")
def validate_fields() -> Response:
    post_id = form_id(request.form.get("post_id"))
    post = _editable_post(post_id) if post_id else None
    form = PostForm()
    form.validate()
    errors = validate(form.to_fields(site_zone()), post, current_user)
    # Only the fields this user's form has (a contributor's has no status or time).
    checked = [name for name in ("title", "slug", "status", "published_at") if name in request.form]
    return render_fragment(
        EDIT_TEMPLATE, "validation", validation_errors=errors, validated_fields=checked
    )


@bp.get("/posts/<int:post_id>/revisions")
def revisions(post_id: int) -> Response:
    post = _editable_post(post_id)
    history = revisions_of(post)
    by_id = {revision.id: revision for revision in history}
    newer = by_id.get(request.args.get("b", type=int) or 0) or (history[0] if history else None)
    older = by_id.get(request.args.get("a", type=int) or 0) or (
        history[1] if len(history) > 1 else newer
    )
    diff = line_diff(older.source, newer.source) if older and newer else []
    return render("editor/revisions.html", block="diff", post=post, history=history,
                  older=older, newer=newer, diff=diff)  # fmt: skip


@bp.post("/posts/<int:post_id>/send-back")
def send_back_post(post_id: int) -> Response:
    """The desk returns a submitted post to its writer, with a note the writer sees."""
    post = _editable_post(post_id)
    if not can_review(current_user):
        abort(403)
    if post.status != PostStatus.PENDING:
        flash(_("This post is no longer waiting for review."), "error")
        return redirect(url_for("editor.edit_post", post_id=post.id), code=303)
    note = request.form.get("review_note", "")
    try:
        send_back(post, current_user, note, form_id(request.form.get("version")))
    except InvalidFields as problem:
        form = PostForm(formdata=None)
        form.fill(fields_of(post), post.version, site_zone())
        return _edit_page(form, post, status=422, review_note=note,
                          review_note_error=problem.errors["review_note"])  # fmt: skip
    except EditConflict:
        flash(_("Someone saved the post in the meantime; read it again before sending it back."),
              "error")  # fmt: skip
        return redirect(url_for("editor.edit_post", post_id=post.id), code=303)
    flash(_("“%(title)s” went back to its writer as a draft.", title=post.title))
    return redirect(url_for("editor.dashboard"), code=303)


@bp.post("/posts/<int:post_id>/revisions/<int:revision_id>/restore")
def restore(post_id: int, revision_id: int) -> Response:
    post = _editable_post(post_id)
    revision = db.session.get(Revision, revision_id)
    if revision is None or revision.post_id != post.id:
        abort(404)
    if post.is_public(clock.now()) and not confirmed():
        return ask(
            _("Restore revision %(number)s?", number=revision.post_version),
            _("“%(title)s” is on the site: restoring revision %(number)s puts that text on the "
              "site at once, as a new revision. The current text stays in the history.",
              title=post.title, number=revision.post_version),
            url_for("editor.restore", post_id=post.id, revision_id=revision.id),
            _("Restore and publish"), url_for("editor.revisions", post_id=post.id),
        )  # fmt: skip
    try:
        restore_revision(post, revision, current_user)
    except NotAllowed:
        abort(403)
    except (InvalidFields, RenderFailed) as problem:
        return _revision_in_the_form(post, revision, problem)
    except EditConflict:
        flash(_("Someone saved the post in the meantime; look at the revisions again."), "error")
        return redirect(url_for("editor.revisions", post_id=post.id), code=303)
    flash(_("Revision %(number)s is restored as a new revision.", number=revision.post_version))
    return redirect(url_for("editor.edit_post", post_id=post.id), code=303)


def _revision_in_the_form(
    post: Post, revision: Revision, problem: InvalidFields | RenderFailed
) -> Response:
    """A revision that cannot be saved as it is, loaded into the form to be mended."""
    if isinstance(problem, InvalidFields):
        fields, errors = problem.fields, problem.errors
    else:
        fields, errors = fields_of(post), {"body": render_problem(problem)}
        fields.title, fields.body, fields.format = (
            revision.title, revision.source, revision.source_format
        )  # fmt: skip
    form = PostForm(formdata=None)
    form.fill(fields, post.version, site_zone())
    for name, message in errors.items():
        getattr(form, name).errors = [message]
    return _edit_page(form, post, status=422)


@bp.post("/posts/<int:post_id>/delete")
def delete_post(post_id: int) -> Response:
    post = _editable_post(post_id)
    if not confirmed():
        if post.is_public(clock.now()):
            message = _("“%(title)s” is on the site: it disappears from it at once. You can "
                        "restore it from the trash.", title=post.title)  # fmt: skip
        else:
            message = _("You can restore “%(title)s” from the trash.", title=post.title)
        return ask(
            _("Move to the trash?"), message, url_for("editor.delete_post", post_id=post.id),
            _("Move to trash"), url_for("editor.edit_post", post_id=post.id),
        )  # fmt: skip
    try:
        trash_post(post, current_user)
    except NotAllowed:
        abort(403)
    flash(_("“%(title)s” is in the trash; you can restore it from there.", title=post.title))
    return redirect(url_for("editor.dashboard"), code=303)


@bp.get("/trash")
def trash() -> Response:
    """Editors see every trashed post; writers see their own, to take them back."""
    query = _visible_posts_query(trashed=True).options(selectinload(Post.author))
    posts = db.session.execute(query.order_by(Post.deleted_at.desc())).scalars()
    return render("editor/trash.html", posts=list(posts))


@bp.post("/trash/<int:post_id>/restore")
def restore_from_trash(post_id: int) -> Response:
    post = db.get_or_404(Post, post_id)
    if post.deleted_at is None:
        abort(404)  # not in the trash
    if not can_restore(current_user, post):
        abort(403 if post.author_id == current_user.id else 404)
    try:
        restore_post(post, current_user)
    except NotAllowed:
        abort(403)
    flash(_("“%(title)s” is restored.", title=post.title))
    return redirect(url_for("editor.trash"), code=303)


@bp.post("/trash/empty")
@require_role(Role.ADMIN)
def empty() -> Response:
    if not confirmed():
        return ask(
            _("Empty the trash?"),
            _("Every post in the trash is deleted for good, with its revisions. This cannot "
              "be undone."),
            url_for("editor.empty"), _("Delete for good"), url_for("editor.trash"),
        )  # fmt: skip
    count = empty_trash(current_user)
    flash(_("%(count)s posts were deleted for good.", count=count))
    return redirect(url_for("editor.trash"), code=303)
