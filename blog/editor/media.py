"""The media library under /admin/media: upload, describe (alt text, caption), delete."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..content.media import (
    MediaInUse,
    StoredUpload,
    UploadError,
    clean_alt,
    clean_caption,
    delete_media,
    image_snippet,
    may_change_media,
    media_library,
    media_url,
    posts_using,
    update_media_text,
    upload_image,
)
from ..content.permissions import can_edit
from ..content.text import TextError
from ..content.urls import local_path
from ..extensions import db
from ..htmx import is_fragment_request, render
from ..models import Media, Post
from . import bp
from .confirm import ask, confirmed
from .forms import DescribeMediaForm, UploadForm

MEDIA_TEMPLATE = "editor/media.html"


def clean_image_text(form: Any, alt_field: str, caption_field: str) -> tuple[str, str] | None:
    """The form's alt text and caption made clean, or None with the errors set on the form."""
    alt, caption = getattr(form, alt_field), getattr(form, caption_field)
    cleaned = []
    for field, clean in ((alt, clean_alt), (caption, clean_caption)):
        try:
            cleaned.append(clean(field.data or ""))
        except TextError as error:
            field.errors = [str(error)]
    return (cleaned[0], cleaned[1]) if len(cleaned) == 2 else None


def snippets(stored: StoredUpload) -> dict[str, str]:
    """What "Insert into the body" adds, per source format (the page's script picks one)."""
    return {
        name: image_snippet(stored.url, stored.alt, stored.caption, name)
        for name in ("markdown", "html")
    }


def already_stored_message(stored: StoredUpload) -> str:
    return _("This image is already in the media library as “%(name)s”; nothing new was "
             "stored. Its address: %(url)s", name=stored.name, url=stored.url)  # fmt: skip


def _media_page(status: int = 200, **context: Any) -> Response:
    listing = [
        (item, media_url(item), used, may_change_media(current_user, item))
        for item, used in media_library(current_user)
    ]
    context.setdefault("form", UploadForm(formdata=None))
    context.setdefault("describing", {})
    context.setdefault("is_fragment", is_fragment_request())
    return render(MEDIA_TEMPLATE, block="upload_result", status=status, listing=listing,
                  **context)  # fmt: skip


@bp.route("/media", methods=["GET", "POST"])
def media() -> Response:
    form = UploadForm()
    if request.method == "GET":
        return _media_page(form=form)
    stored = None
    valid = form.validate_on_submit()  # first: validating empties the fields' errors
    text = clean_image_text(form, "alt", "caption")
    if valid and text is not None:
        upload = form.file.data
        try:
            stored = upload_image(upload.read(), upload.filename, current_user.id,
                                  current_app.config["MAX_UPLOAD_BYTES"], *text)  # fmt: skip
        except UploadError as error:
            form.file.errors = [str(error)]
    if stored is None:
        return _media_page(422, form=form)
    if not is_fragment_request():
        flash(already_stored_message(stored) if stored.existing
              else _("Uploaded: %(url)s", url=stored.url))  # fmt: skip
        target = local_path(form.next.data) or url_for(
            "editor.media", _anchor=f"media-{stored.media.id}"
        )
        return redirect(target, code=303)
    return _media_page(form=form, uploaded=stored, snippets=snippets(stored))


def _changeable_media(media_id: int) -> Media:
    item = db.session.get(Media, media_id)
    if item is None:
        abort(404)
    if not may_change_media(current_user, item):
        abort(403)
    return item


@bp.post("/media/<int:media_id>")
def describe_media(media_id: int) -> Response:
    item = _changeable_media(media_id)
    form = DescribeMediaForm()
    valid = form.validate_on_submit()  # first: validating empties the fields' errors
    text = clean_image_text(form, "alt", "caption")
    if not valid or text is None:
        return _media_page(422, describing={item.id: form})
    update_media_text(item, current_user, *text)
    flash(_("The description of “%(name)s” is saved.", name=item.filename))
    return redirect(url_for("editor.media", _anchor=f"media-{item.id}"), code=303)


def _in_use_page(item: Media, posts: list[Post]) -> Response:
    """Why the file stays: the posts using it that the viewer may open, and how many others."""
    editable = [post for post in posts if can_edit(current_user, post)]
    return render(
        "editor/media_in_use.html", block="in_use", status=409, item=item, url=media_url(item),
        posts=editable, others=len(posts) - len(editable),
    )  # fmt: skip


@bp.post("/media/<int:media_id>/delete")
def delete_media_file(media_id: int) -> Response:
    item = _changeable_media(media_id)
    using = posts_using(item)
    if using:
        return _in_use_page(item, using)
    if not confirmed():
        return ask(
            _("Delete “%(name)s”?", name=item.filename),
            _("No post uses this file. Deleting it removes it from the library and its "
              "address stops working; this cannot be undone."),
            url_for("editor.delete_media_file", media_id=item.id), _("Delete the file"),
            url_for("editor.media", _anchor=f"media-{item.id}"),
        )  # fmt: skip
    name = item.filename
    try:
        delete_media(item, current_user)
    except MediaInUse as in_use:  # a post took it up between the question and the answer
        return _in_use_page(item, in_use.posts)
    flash(_("“%(name)s” is deleted.", name=name))
    return redirect(url_for("editor.media"), code=303)
