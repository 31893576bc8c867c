"""The post form: plain HTML field names (title, slug, body, ...) with Flask-WTF's CSRF."""

from __future__ import annotations

from datetime import datetime, tzinfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..content.labels import STATUS_LABELS
from ..content.publish import PostFields, split_names
from ..content.text import clean_body
from ..models import PostStatus, SourceFormat
from ..routing import form_id

# Every status, named as everywhere else; the view narrows them to what the user may set.
STATUS_CHOICES = [SelectChoice(value, label) for value, label in STATUS_LABELS.items()]
FORMAT_CHOICES = [
    SelectChoice(SourceFormat.MARKDOWN.value, "Markdown"),
    SelectChoice(SourceFormat.HTML.value, "HTML"),
]
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class PostForm(FlaskForm):
    title = StringField(_l("Title"))
    slug = StringField(_l("Address"))
    format = SelectField(_l("Format"), choices=FORMAT_CHOICES, default=SourceFormat.MARKDOWN.value)
    body = TextAreaField(_l("Body"))
    excerpt = TextAreaField(_l("Excerpt"))
    feature_text = TextAreaField(_l("Feature text"))
    feature_image = StringField(_l("Feature image URL"))
    categories = StringField(_l("Categories"))
    tags = StringField(_l("Tags"))
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default=PostStatus.DRAFT.value)
    published_at = DateTimeLocalField(
        _l("Publish date and time"), format=LOCAL_FORMAT, validators=[Optional()]
    )
    # Editors and admins only; the view fills the choices. Checked by the domain, which
    # names a wrong value, so the form itself accepts any.
    author = SelectField(_l("Author"), choices=[], validate_choice=False)
    version = HiddenField()
    # Without JavaScript an image comes with the post itself (see editor/views.attach_image).
    attachment = FileField(_l("Image"))
    attachment_alt = StringField(_l("Alt text"))
    attachment_caption = StringField(_l("Caption"))
    # An image stored on a save that asked for its alt text: inserted once that is given.
    attachment_url = HiddenField()

    def to_fields(self, zone: tzinfo) -> PostFields:
        """The form's values as PostFields; the publish time is read in the site's zone."""
        local: datetime | None = self.published_at.data
        return PostFields(
            title=(self.title.data or "").strip(),
            slug=(self.slug.data or "").strip(),
            format=self.format.data or SourceFormat.MARKDOWN.value,
            body=clean_body(self.body.data or ""),
            excerpt=clean_body(self.excerpt.data or ""),
            feature_text=clean_body(self.feature_text.data or ""),
            feature_image=self.feature_image.data or "",
            categories=split_names(self.categories.data or ""),
            tags=split_names(self.tags.data or ""),
            status=self.status.data or PostStatus.DRAFT.value,
            published_at=local.replace(tzinfo=zone) if local else None,
            author_id=self._author_id(),
        )

    def _author_id(self) -> int | None:
        value = (self.author.data or "").strip()
        if not value:
            return None
        # Not a number: -1 names no user, so the domain says "choose from the list".
        found = form_id(value)
        return -1 if found is None else found

    def fill(self, fields: PostFields, version: int | None, zone: tzinfo) -> None:
        """Load a post's fields into the form (for GET)."""
        self.title.data = fields.title
        self.slug.data = fields.slug
        self.format.data = fields.format
        self.body.data = fields.body
        self.excerpt.data = fields.excerpt
        self.feature_text.data = fields.feature_text
        self.feature_image.data = fields.feature_image
        self.categories.data = ", ".join(fields.categories)
        self.tags.data = ", ".join(fields.tags)
        self.status.data = fields.status
        moment = fields.published_at
        self.published_at.data = moment.astimezone(zone).replace(tzinfo=None) if moment else None
        self.author.data = str(fields.author_id) if fields.author_id is not None else ""
        self.version.data = str(version) if version is not None else ""

    def base_version(self) -> int | None:
        """The version the form was loaded at; None (a conflict) for anything else."""
        return form_id(self.version.data)


class UploadForm(FlaskForm):
    file = FileField(_l("Image"), validators=[FileRequired()])
    alt = StringField(_l("Alt text"))
    caption = StringField(_l("Caption"))
    next = HiddenField()


class DescribeMediaForm(FlaskForm):
    """Alt text and caption of one file in the library."""

    alt = StringField(_l("Alt text"))
    caption = StringField(_l("Caption"))
