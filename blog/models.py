"""SQLAlchemy 2.0 typed models: the whole product's data, portable across SQLite and PostgreSQL."""

from __future__ import annotations

import enum
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    false,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.datastructures import MultiDict

from .database import unindexed
from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def fold_name(name: str) -> str:
    """A category or tag name as uniqueness sees it: NFC, then case folded, so "News",
    "news" and a decomposed "뉴스" are the same name as their composed, any-case twins."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold()).strip()


def _folded_name_default(context: Any) -> str:
    return fold_name(context.get_current_parameters()["name"])


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and hands them back aware.

    SQLite keeps no zone, so every value is normalised to UTC on the way in and tagged
    UTC on the way out; on PostgreSQL this maps to timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Role(enum.StrEnum):
    CONTRIBUTOR = "contributor"
    AUTHOR = "author"
    EDITOR = "editor"
    ADMIN = "admin"


ROLE_RANK = {Role.CONTRIBUTOR: 0, Role.AUTHOR: 1, Role.EDITOR: 2, Role.ADMIN: 3}


class PostStatus(enum.StrEnum):
    DRAFT = "draft"
    # Submitted by its writer; an editor publishes, schedules or sends it back.
    PENDING = "pending"
    PUBLISHED = "published"
    SCHEDULED = "scheduled"
    UNLISTED = "unlisted"


class SourceFormat(enum.StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"

    @classmethod
    def parse(cls, value: str | None) -> SourceFormat:
        """The format `value` names, Markdown for anything else (a preview never fails)."""
        return cls(value) if value in cls._value2member_map_ else cls.MARKDOWN


post_categories = Table(
    "post_categories",
    db.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    # From a category to its posts: the site header asks, for each category, whether a
    # public post has it (content/taxonomy.py header_categories), one probe each.
    Index("ix_post_categories_category", "category_id", "post_id"),
)

post_tags = Table(
    "post_tags",
    db.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    # A tag's posts (related posts start from the tags), not only a post's tags.
    Index("ix_post_tags_tag", "tag_id", "post_id"),
)


# Which stored files a post uses (body or feature image), kept on every save so the media
# page never scans post bodies.
post_media = Table(
    "post_media",
    db.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("media_id", ForeignKey("media.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.CONTRIBUTOR.value)
    active: Mapped[bool] = mapped_column(default=True)
    # The user's own interface language; None follows the site's.
    language: Mapped[str | None] = mapped_column(String(10))
    # The byline: a short bio and an avatar image (a media URL), set on the account page.
    bio: Mapped[str] = mapped_column(Text, default="", server_default="")
    avatar: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    posts: Mapped[list[Post]] = relationship(back_populates="author", foreign_keys="Post.author_id")

    @property
    def name(self) -> str:
        return self.display_name or self.username

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, role: Role) -> bool:
        """At least `role`: admin > editor > author > contributor."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[role]


class LoginSession(db.Model):
    """A signed-in browser, recorded server-side so it can be ended from anywhere."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(db.Model):
    """A one-time password-reset link an admin made; only the token's hash is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class LoginAttempt(db.Model):
    """A sign-in attempt that has not succeeded (yet): what login throttling counts.

    Rows live in the database so every process of the blog counts the same attempts.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_account", "account_key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "user:<id>" for an existing account (whichever of its names was typed), else the
    # typed name itself, so unknown names are throttled too.
    account_key: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AuditEvent(db.Model):
    """Who published, unpublished, deleted, restored, changed roles ... and when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


class WorkingCopy(db.Model):
    """An editor's autosaved, unsaved form: never touches the post, so never conflicts."""

    __tablename__ = "working_copies"
    __table_args__ = (UniqueConstraint("user_id", "post_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_key: Mapped[str] = mapped_column(String(40))  # a post id, or "new"
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_formdata(self) -> MultiDict[str, str]:
        """The saved fields in the shape a submitted form has, to refill the editor."""
        return MultiDict(self.fields)


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name folded (NFC, casefold): names are unique however they are typed.
    name_key: Mapped[str] = mapped_column(String(400), unique=True, default=_folded_name_default)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    # Set by hand: a rename keeps it; otherwise the slug follows the name.
    slug_locked: Mapped[bool] = mapped_column(default=False, server_default=false())

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = fold_name(name)
        return name


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(400), unique=True, default=_folded_name_default)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    slug_locked: Mapped[bool] = mapped_column(default=False, server_default=false())

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = fold_name(name)
        return name


class TaxonomyRedirect(db.Model):
    """A former slug of a category or tag (renamed or merged away) that now means another."""

    __tablename__ = "taxonomy_redirects"
    __table_args__ = (UniqueConstraint("kind", "old_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "category" or "tag"
    old_slug: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    tag_id: Mapped[int | None] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_listing", "status", "published_at"),
        # Public lists, newest first, and previous/next links: found by walking this index
        # from a cursor, however deep the page (see content/posts.py listed_posts).
        Index(
            "ix_posts_public_order",
            "published_at",
            "id",
            "status",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # Whether the public site has several authors: the lowest and the highest author
        # of a listed post, each the first match along this index.
        Index(
            "ix_posts_author_listing",
            "author_id",
            "published_at",
            "status",
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(300), unique=True)
    source: Mapped[str] = mapped_column(Text, default="")
    source_format: Mapped[str] = mapped_column(String(20), default=SourceFormat.MARKDOWN.value)
    # Rendered and sanitised when the post is saved; pages never render Markdown per request.
    body_html: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    # What lists show: the excerpt, else the feature text, else the body's opening; derived
    # on save so a list never parses post bodies.
    summary: Mapped[str] = mapped_column(Text, default="")
    feature_text: Mapped[str] = mapped_column(Text, default="")
    # Minutes the body takes to read (markup.reading_minutes), derived on save. None: saved
    # before the blog counted them, or rendered by an older renderer; `blog rerender` (run
    # by `blog init`) renders those again.
    reading_minutes: Mapped[int | None] = mapped_column(Integer)
    feature_image: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(20), default=PostStatus.DRAFT.value)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Front-matter keys the blog has no column for (layout, toc, wordpress_id, ...), kept
    # so that nothing an import brought in is lost and an export can write it back.
    # Deferred: no page shows it, so no query loads it unless asked (up to 64 KB a post).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, deferred=True)
    # Where an imported post came from (path inside the Jekyll site); re-imports match on it.
    import_source: Mapped[str | None] = mapped_column(String(1000), unique=True)
    # What an editor said when sending the post back to its writer; kept through a
    # resubmission (the desk checks the changes against it), cleared once the post is out.
    review_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Set when the post is moved to the trash; editors can restore it.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who moved it there: a writer may take back what they trashed, not an editor's takedown.
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Optimistic locking: every UPDATE checks and bumps it, so a stale save cannot win.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    author: Mapped[User | None] = relationship(back_populates="posts", foreign_keys=[author_id])
    categories: Mapped[list[Category]] = relationship(
        secondary=post_categories, order_by=Category.name
    )
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags, order_by=Tag.name)
    redirects: Mapped[list[Redirect]] = relationship(
        back_populates="post", cascade="all, delete-orphan"
    )
    media: Mapped[list[Media]] = relationship(secondary=post_media, back_populates="used_in")

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def listed(cls, now: datetime, by_date: bool = True) -> ColumnElement[bool]:
        """Posts that appear in lists: published, or scheduled whose time has come.

        Found through ix_posts_public_order, newest first, never by status: there are
        few statuses and many posts in each. `by_date=False` leaves the date to be checked
        in another index (ix_posts_author_listing walks authors)."""
        published_at = cls.published_at if by_date else unindexed(cls.published_at)
        return and_(
            unindexed(cls.status).in_([PostStatus.PUBLISHED.value, PostStatus.SCHEDULED.value]),
            published_at <= now,
            cls.deleted_at.is_(None),
        )

    @classmethod
    def reachable(cls, now: datetime) -> ColumnElement[bool]:
        """Posts a reader may open by URL: listed ones plus unlisted ones."""
        return or_(
            cls.listed(now),
            and_(cls.status == PostStatus.UNLISTED.value, cls.deleted_at.is_(None)),
        )

    def effective_status(self, now: datetime) -> str:
        """The status readers and writers should be told: a scheduled post whose time has
        come is published. Its SQL twin is `in_status`."""
        if (
            self.status == PostStatus.SCHEDULED
            and self.published_at is not None
            and self.published_at <= now
        ):
            return PostStatus.PUBLISHED.value
        return self.status

    @classmethod
    def in_status(cls, status: PostStatus, now: datetime) -> ColumnElement[bool]:
        """Posts whose `effective_status` is `status`."""
        if status == PostStatus.PUBLISHED:
            return or_(
                cls.status == PostStatus.PUBLISHED.value,
                and_(cls.status == PostStatus.SCHEDULED.value, cls.published_at <= now),
            )
        if status == PostStatus.SCHEDULED:
            return and_(cls.status == PostStatus.SCHEDULED.value, cls.published_at > now)
        return cls.status == status.value

    def is_public(self, now: datetime) -> bool:
        """Python twin of `reachable`, for a post already loaded."""
        if self.deleted_at is not None:
            return False
        if self.status == PostStatus.UNLISTED:
            return True
        return (
            self.status in (PostStatus.PUBLISHED, PostStatus.SCHEDULED)
            and self.published_at is not None
            and self.published_at <= now
        )


class Revision(db.Model):
    """A saved state of a post: who saved what, when."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    post_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(Text)
    source_format: Mapped[str] = mapped_column(String(20))
    # The other fields as they were (status, slug, excerpt, categories ...).
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class Redirect(db.Model):
    """An old path (a Jekyll permalink, redirect_from, a former slug) that now means a post."""

    __tablename__ = "redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (see content.redirects.normalise_path) so lookups are exact matches.
    old_path: Mapped[str] = mapped_column(String(1000), unique=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    post: Mapped[Post] = relationship(back_populates="redirects")


class Media(db.Model):
    """An uploaded or imported file, stored in the database so the blog stays one file."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # Deferred: lists of files never load the files themselves.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the image shows, for readers who cannot see it, and the line printed under it.
    alt: Mapped[str] = mapped_column(String(500), default="", server_default="")
    caption: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    # Its size in pixels, for <img width height> so pages do not jump while images load.
    # Recorded at upload and import; None for an SVG that states no size.
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)

    used_in: Mapped[list[Post]] = relationship(
        secondary=post_media, back_populates="media", order_by="Post.id"
    )


class Setting(db.Model):
    """Site settings an admin can change at run time (title, time zone, ...)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class ChangeCounter(db.Model):
    """How often something public changed: cached pages are valid while it stands still.

    Bumped by `database.writing()` in the transaction of every change to a public table,
    so every process on the database sees the change at its next request.
    """

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Secret(db.Model):
    """A secret of the blog's own, such as the key that signs sessions (blog/secret_key.py).

    In the database, not a file beside it: every process on any machine reads the same, and
    a backup carries it. Private: no page shows it, and writing it moves no change counter.
    """

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
