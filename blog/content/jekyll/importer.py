"""`blog import-jekyll`: bring a Jekyll archive across completely, keeping its old URLs."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ...database import writing
from ...extensions import db
from ...models import Media, Post, PostStatus, SourceFormat, User, fold_name, utcnow
from .. import taxonomy
from ..markup import html_to_text, plain_text, render_body_within_budget, truncate_text
from ..media import (
    IMPORT_TYPES,
    CleanImage,
    UploadError,
    clean_image,
    media_url_for,
    safe_filename,
    sniff_image_type,
    store_media,
)
from ..posts import (
    RenderedPost,
    post_path,
    save_post,
    set_categories,
    set_tags,
    slug_taken,
)
from ..redirects import add_redirect, redirects_of
from ..slugs import slugify, title_from_slug, unique_slug
from ..urls import image_url_problem
from .dates import FILENAME_DATE, DateError, parse_jekyll_date
from .frontmatter import (
    FrontMatterError,
    normalise_text,
    parse_front_matter,
    split_front_matter,
    waits_for_review,
)
from .liquid import LiquidContext, render_liquid
from .permalinks import jekyll_permalink, permalink_template
from .site import JekyllSite, PostFile, discover_posts, load_site

_NOT_PUBLIC = {PostStatus.DRAFT.value, PostStatus.PENDING.value}
# Front-matter keys that become columns; every other key is kept in Post.extra.
_COLUMN_KEYS = {"title", "date", "categories", "category", "tags", "tag", "excerpt",
                "feature_text", "published"}  # fmt: skip
_IMAGE_KEYS = ("path", "feature", "url", "src", "image", "overlay_image", "teaser", "thumbnail")
# A tag's attributes are read up to its `>` but never into the next tag of the same kind:
# with [^>]*? every `<img ` before the same `>` (or the end) read all that followed it again.
_IMG_SRC = re.compile(
    r"""<(?:img|source)\b(?:[^<>]|<(?!(?:img|source)\b))*?\bsrc\s*=\s*["']([^"']+)["']""", re.I
)
_IMAGE_HREF = re.compile(
    r"""<a\b(?:[^<>]|<(?!a\b))*?\bhref\s*=\s*["']([^"']+\.(?:jpe?g|png|gif|webp|avif|svg))["']""",
    re.I,
)
# The image candidates of srcset="a.jpg 1x, b.jpg 2x" (on <img> and <picture>'s <source>).
_SRCSET = re.compile(r"""\bsrcset\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
# The -2, -3, ... that unique_slug adds to a taken slug.
_UNIQUE_SLUG_SUFFIX = re.compile(r"(?:-\d+)?")
_MORE = "<!--more-->"
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg"}
# Archive photos are often larger than what the upload form takes; the pixel limits of
# clean_image() still bound what decoding them costs.
MAX_ASSET_BYTES = 50 * 1024 * 1024
# A post file (front matter and body) larger than this is not read at all.
MAX_POST_FILE_BYTES = 16 * 1024 * 1024
# Unknown front-matter keys kept per post (Post.extra), as JSON.
MAX_EXTRA_BYTES = 64 * 1024
# Posts saved per write transaction: the write lock is taken and released per batch.
_BATCH = 100
# Markdown bodies render in worker processes (markdown_worker, each with its time budget)
# while this process stores the batch before: this many at a time.
_RENDER_THREADS = 2


@dataclass
class FileResult:
    path: str
    outcome: str  # imported, updated, skipped, failed
    warnings: list[str] = field(default_factory=list)
    reason: str = ""
    post_slug: str = ""
    draft: bool = False


@dataclass
class ImportReport:
    files: list[FileResult] = field(default_factory=list)
    site_warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.files if result.outcome == outcome)

    @property
    def drafts(self) -> int:
        return sum(1 for r in self.files if r.draft and r.outcome in {"imported", "updated"})

    @property
    def warning_count(self) -> int:
        return len(self.site_warnings) + sum(len(r.warnings) for r in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.files if r.outcome == "failed"]


@dataclass
class _Parsed:
    """A post file read and understood, before it touches the database."""

    file: PostFile
    front: dict[str, Any]
    body: str
    source_format: str
    jekyll_slug: str
    published_at: datetime | None
    warnings: list[str]
    status: str = PostStatus.PUBLISHED.value
    slug: str = ""
    existing: Post | None = None


@dataclass
class _Started:
    """A post with its Liquid resolved and its Markdown body rendering in a worker."""

    item: _Parsed
    result: FileResult
    title: str
    source: str
    rendering: Future[str] | None  # render_body_within_budget(source), for Markdown


@dataclass
class _Prepared:
    """What saving one post writes, computed before the write transaction."""

    item: _Parsed
    result: FileResult
    title: str
    source: str
    feature_text: str
    feature_image: str
    excerpt: str
    extra: dict[str, Any]
    categories: list[str]
    tags: list[str]
    updated_at: datetime | None
    rendered: RenderedPost
    old_paths: list[str]
    images: list[tuple[str, str]]  # (sha256, file name) of the images the post uses


class _Known:
    """What one write transaction of an import has found or written so far: posts by
    import key, categories and tags by name key. Only posts whose savepoint was kept are
    remembered, with their terms, so a post rolled back leaves nothing behind here."""

    def __init__(self, posts: dict[str, Post]) -> None:
        self.posts = posts
        self.categories: dict[str, Any] = {}
        self.tags: dict[str, Any] = {}

    def preload_terms(self, batch: list[_Prepared]) -> None:
        """The batch's existing categories and tags, in one query each."""
        for kind, terms, names in (
            ("category", self.categories, [n for entry in batch for n in entry.categories]),
            ("tag", self.tags, [n for entry in batch for n in entry.tags]),
        ):
            model = taxonomy.model_for(kind)
            keys = list({fold_name(taxonomy.import_name(name)) for name in names} - set(terms))
            for start in range(0, len(keys), 500):  # well under any database's parameter limit
                rows = db.session.execute(
                    select(model).where(model.name_key.in_(keys[start : start + 500]))
                ).scalars()
                terms.update((term.name_key, term) for term in rows)

    def remember(self, key: str, post: Post) -> None:
        self.posts[key] = post
        self.categories.update((term.name_key, term) for term in post.categories)
        self.tags.update((term.name_key, term) for term in post.tags)


class _DryRun(Exception):
    """Raised inside `writing()` so that a dry run's batch rolls back."""


class JekyllImporter:
    def __init__(
        self,
        path: Path,
        *,
        author: User | None,
        fallback_zone: ZoneInfo,
        assets_dir: Path | None = None,
        site_title: str = "",
        now: Callable[[], datetime] = utcnow,
        progress: Callable[[int, int, FileResult], None] | None = None,
    ) -> None:
        self.root = path
        self.author = author
        self.assets_dir = assets_dir
        self.site: JekyllSite = load_site(path if path.is_dir() else path.parent)
        self.zone = self.site.zone(fallback_zone)
        self._liquid_site = {"title": site_title, **self.site.config}
        kramdown = self.site.config.get("kramdown")
        # kramdown's parse_block_html reads Markdown inside HTML blocks; Python-Markdown
        # does the same for blocks marked markdown="1".
        self._parse_block_html = (
            isinstance(kramdown, dict) and kramdown.get("parse_block_html") is True
        )
        self.now = now
        self.progress = progress
        # Asset file -> (sha256, name) once cleaned, or None when it was refused.
        self._media_cache: dict[Path, tuple[str, str] | None] = {}
        self._media_names: dict[str, str] = {}  # sha256 -> the name it is stored under
        self._pending_images: dict[str, CleanImage] = {}  # cleaned, not yet in the database
        self._files_by_name: dict[str, list[Path]] | None = None

    # -- public ------------------------------------------------------------------------

    def run(self, dry_run: bool = False) -> ImportReport:
        """Import every post file; a broken file is reported and the rest goes on."""
        report = ImportReport(site_warnings=list(self.site.warnings), dry_run=dry_run)
        files, skipped = discover_posts(self.root)
        for relative, reason in skipped:
            report.files.append(FileResult(relative, "skipped", reason=reason))
        parsed: list[_Parsed] = []
        results: dict[str, FileResult] = {}
        for post_file in files:
            result = FileResult(post_file.relative_path, "failed")
            results[post_file.relative_path] = result
            report.files.append(result)
            try:
                item = self._read(post_file)
            except _Skip as skip:
                result.outcome, result.reason = "skipped", str(skip)
                continue
            except (OSError, FrontMatterError, DateError, UnicodeError) as error:
                result.reason = str(error)
                continue
            except Exception as error:  # noqa: BLE001 - report the file, import the rest
                result.reason = f"{type(error).__name__}: {error}"
                continue
            if item is not None:
                parsed.append(item)
        self._assign_slugs(parsed)
        by_post_url = {self._post_url_key(p.file): p for p in parsed}
        total = len(parsed)
        batches = [parsed[start : start + _BATCH] for start in range(0, total, _BATCH)]
        with ThreadPoolExecutor(_RENDER_THREADS, thread_name_prefix="import-render") as pool:

            def start(batch: list[_Parsed]) -> list[_Started | None]:
                return [self._start_or_report(item, results, by_post_url, pool) for item in batch]

            ahead = start(batches[0]) if batches else []
            for number, batch in enumerate(batches):
                started = ahead
                # The next batch renders in the workers while this one is stored.
                ahead = start(batches[number + 1]) if number + 1 < len(batches) else []
                # Images and the rest first, with nothing held; then one short write.
                prepared = [self._finish_or_report(entry) for entry in started if entry]
                self._store_batch([entry for entry in prepared if entry is not None], dry_run)
                if self.progress:
                    for index, item in enumerate(batch, start=number * _BATCH + 1):
                        self.progress(index, total, results[item.file.relative_path])
        self._pending_images.clear()
        return report

    # -- reading -----------------------------------------------------------------------

    def _decode(self, raw: bytes) -> tuple[str, list[str]]:
        try:
            return raw.decode("utf-8"), []
        except UnicodeDecodeError as error:
            # Old Korean blogs were often saved in CP949 (EUC-KR); accept it with a warning.
            try:
                return raw.decode("cp949"), ["file is not UTF-8; read as CP949 (EUC-KR)"]
            except UnicodeDecodeError:
                raise UnicodeError(
                    f"not UTF-8 text ({error.reason} at byte {error.start})"
                ) from None

    def _read(self, post_file: PostFile) -> _Parsed | None:
        if post_file.path.stat().st_size > MAX_POST_FILE_BYTES:
            raise UnicodeError(f"larger than {MAX_POST_FILE_BYTES // (1024 * 1024)} MB: not a post")
        raw = post_file.path.read_bytes()
        if b"\x00" in raw[:8000]:
            raise UnicodeError("binary file, not a text post")
        text, warnings = self._decode(raw)
        if text.startswith("\ufeff"):
            warnings.append("UTF-8 byte order mark removed")
        text = normalise_text(text)
        yaml_text, body, split_warnings = split_front_matter(text)
        warnings.extend(split_warnings)
        if yaml_text is None:
            warnings.append("no front matter: title and date come from the file name")
        front, fm_warnings = parse_front_matter(yaml_text)
        warnings.extend(fm_warnings)
        front = {**self.site.defaults_for(post_file.relative_path), **front}

        name = unicodedata.normalize("NFC", post_file.path.name)
        suffix = PurePosixPath(name).suffix.lower()
        source_format = (
            SourceFormat.HTML.value if suffix in {".html", ".htm"} else SourceFormat.MARKDOWN.value
        )
        match = FILENAME_DATE.match(name)
        published_at: datetime | None = None
        if match:
            jekyll_slug = match["slug"]
            published_at, date_warnings = parse_jekyll_date(match["date"], self.zone)
            warnings.extend(date_warnings)
        elif post_file.is_draft:
            jekyll_slug = PurePosixPath(name).stem
        else:
            raise _Skip(
                "file name lacks the YYYY-MM-DD- prefix, so Jekyll does not treat it as a post"
            )
        if front.get("slug"):
            jekyll_slug = unicodedata.normalize("NFC", str(front["slug"]))
        if front.get("date"):
            try:
                front_date, date_warnings = parse_jekyll_date(front["date"], self.zone)
                warnings.extend(date_warnings)
                published_at = front_date
            except DateError as error:
                warnings.append(f"{error}; using the date from the file name")
        parsed = _Parsed(post_file, front, body, source_format, jekyll_slug, published_at, warnings)
        parsed.status = self._status(parsed)
        return parsed

    def _status(self, item: _Parsed) -> str:
        published = item.front.get("published", True)
        if item.file.is_draft or published is False or str(published).lower() == "false":
            return (
                PostStatus.PENDING.value if waits_for_review(item.front) else PostStatus.DRAFT.value
            )
        if item.published_at is None:
            return PostStatus.DRAFT.value
        if item.front.get("hidden") is True:
            return PostStatus.UNLISTED.value
        if item.published_at > self.now():
            # Jekyll does not build future posts (future: false); they go out at their time.
            return PostStatus.SCHEDULED.value
        return PostStatus.PUBLISHED.value

    def _assign_slugs(self, parsed: list[_Parsed]) -> None:
        taken_in_run: set[str] = set()
        for item in parsed:
            key = self._import_key(item.file)
            item.existing = db.session.execute(
                select(Post).where(Post.import_source == key)
            ).scalar_one_or_none()
            base = (
                slugify(item.jekyll_slug) or slugify(str(item.front.get("title") or "")) or "post"
            )
            existing = item.existing
            if (
                existing is not None
                and existing.slug.startswith(base)
                and _UNIQUE_SLUG_SUFFIX.fullmatch(existing.slug, len(base))
            ):
                # A re-import keeps the post's URL.
                item.slug = existing.slug
            else:
                existing_id = existing.id if existing else None
                item.slug = unique_slug(
                    base, lambda s, i=existing_id: s in taken_in_run or slug_taken(s, i)
                )
            taken_in_run.add(item.slug)

    def _import_key(self, post_file: PostFile) -> str:
        return unicodedata.normalize("NFC", post_file.relative_path)

    @staticmethod
    def _post_url_key(post_file: PostFile) -> str:
        return unicodedata.normalize("NFC", PurePosixPath(post_file.relative_path).stem)

    # -- storing -----------------------------------------------------------------------

    def _start_or_report(
        self,
        item: _Parsed,
        results: dict[str, FileResult],
        by_post_url: dict[str, _Parsed],
        pool: ThreadPoolExecutor,
    ) -> _Started | None:
        result = results[item.file.relative_path]
        try:
            return self._start(item, result, by_post_url, pool)
        except Exception as error:  # noqa: BLE001 - report the file, import the rest
            result.outcome, result.reason = "failed", f"{type(error).__name__}: {error}"
            return None

    def _finish_or_report(self, started: _Started) -> _Prepared | None:
        try:
            return self._finish(started)
        except Exception as error:  # noqa: BLE001 - report the file, import the rest
            started.result.outcome = "failed"
            started.result.reason = f"{type(error).__name__}: {error}"
            return None

    def _start(
        self,
        item: _Parsed,
        result: FileResult,
        by_post_url: dict[str, _Parsed],
        pool: ThreadPoolExecutor,
    ) -> _Started:
        """The post's source with Liquid resolved; a Markdown body starts rendering."""
        front = item.front
        warnings = result.warnings
        warnings.extend(item.warnings)
        title = plain_text(front.get("title") or "") or title_from_slug(item.jekyll_slug)

        def resolve_post_url(name: str) -> str | None:
            target = by_post_url.get(unicodedata.normalize("NFC", name.strip("/").split("/")[-1]))
            return post_path(target.slug) if target else None

        page = {**front, "title": title, "date": item.published_at, "slug": item.jekyll_slug}
        context = LiquidContext(page=page, site=self._liquid_site, zone=self.zone,
                                resolve_post_url=resolve_post_url)  # fmt: skip
        source = render_liquid(item.body, context)
        warnings.extend(context.warnings)
        if item.source_format == SourceFormat.MARKDOWN:
            source = _kramdown_toc(source)
            if self._parse_block_html:
                source = _markdown_inside_html(source)
        rendering = None
        if item.source_format == SourceFormat.MARKDOWN:
            rendering = pool.submit(render_body_within_budget, source, item.source_format)
        return _Started(item, result, title, source, rendering)

    def _finish(self, started: _Started) -> _Prepared:
        """Everything the post's save writes, worked out without writing anything."""
        item, result, title, source = started.item, started.result, started.title, started.source
        front = item.front
        warnings = result.warnings
        feature_image = self._feature_image(front)
        images: list[tuple[str, str]] = []
        if self.assets_dir is not None:
            # The images a Markdown body shows are found in what it renders to.
            body = source if started.rendering is None else started.rendering.result()
            source, feature_image = self._import_assets(
                source, body, feature_image, warnings, images
            )
        feature_image = _acceptable_feature_image(feature_image, warnings)
        feature_text = plain_text(front.get("feature_text") or "")
        excerpt = self._excerpt(front, source, item.source_format)
        # A `status` the post's status now says is not kept: it would outlive a change.
        column_keys = _COLUMN_KEYS | ({"status"} if item.status == PostStatus.PENDING else set())
        extra = _kept_extra({k: v for k, v in front.items() if k not in column_keys}, warnings)
        updated_at = self._updated_at(front, warnings) or item.published_at
        categories = _categories(front, item.file.path_categories)
        tags = _pluralized(front, "tag", "tags")
        if started.rendering is not None and source == started.source:
            body_html = started.rendering.result()
        else:  # HTML, or Markdown whose image URLs now lead to the media store
            body_html = render_body_within_budget(source, item.source_format)
        return _Prepared(
            item=item,
            result=result,
            title=title[:500],
            source=source,
            feature_text=feature_text,
            feature_image=feature_image,
            excerpt=excerpt,
            extra=extra,
            categories=categories,
            tags=tags,
            updated_at=updated_at,
            rendered=RenderedPost.from_body(body_html, excerpt, feature_text),
            old_paths=self._old_paths(item),
            images=images,
        )

    def _store_batch(self, batch: list[_Prepared], dry_run: bool) -> None:
        """Save prepared posts in one write transaction.

        Usually every post saves: the batch is written straight through, one flush per
        post. When one fails, the batch is rolled back and written again with each post in
        a savepoint of its own, so the failing one is reported and rolled back alone. A
        dry run rolls the whole batch back. A batch whose commit fails is reported as not
        saved, post by post.
        """
        warnings_before = [len(entry.result.warnings) for entry in batch]
        try:
            self._write_batch(batch, dry_run, savepoints=False)
        except Exception:  # noqa: BLE001 - the second pass tells which post it was
            for entry, count in zip(batch, warnings_before, strict=True):
                del entry.result.warnings[count:]  # the second pass adds them again
            self._write_batch(batch, dry_run, savepoints=True)

    def _write_batch(self, batch: list[_Prepared], dry_run: bool, savepoints: bool) -> None:
        """One write transaction of `batch`; without savepoints any error is raised."""
        stored: list[_Prepared] = []
        try:
            with writing():
                known = _Known(self._posts_by_key([entry.item for entry in batch]))
                known.preload_terms(batch)
                # One query for every old URL of the batch; with savepoints each post looks
                # its own up, so that a post rolled back leaves no redirect behind it.
                redirects = (
                    None
                    if savepoints
                    else redirects_of(path for entry in batch for path in entry.old_paths)
                )
                for entry in batch:
                    if not savepoints:
                        post = self._store(entry, known, redirects)
                    else:
                        try:
                            with db.session.begin_nested():
                                post = self._store(entry, known, redirects)
                        except Exception as error:  # noqa: BLE001 - report it, import the rest
                            # A term it added and loaded is gone, and the next new term may
                            # get its id: reload, so that id does not mean the old name.
                            db.session.expire_all()
                            entry.result.outcome = "failed"
                            entry.result.reason = f"{type(error).__name__}: {error}"
                            continue
                    stored.append(entry)
                    known.remember(self._import_key(entry.item.file), post)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except SQLAlchemyError as error:
            if not savepoints:
                raise
            for entry in stored:
                entry.result.outcome = "failed"
                entry.result.reason = f"not saved: {type(error).__name__}: {error}"
            return
        for entry in stored:  # in the database now (or never will be: a dry run)
            for sha256, _filename in entry.images:
                self._pending_images.pop(sha256, None)

    def _posts_by_key(self, items: list[_Parsed]) -> dict[str, Post]:
        """The posts earlier imports made of these files, by import key, in one query."""
        keys = [self._import_key(item.file) for item in items]
        rows = db.session.execute(select(Post).where(Post.import_source.in_(keys))).scalars()
        return {str(post.import_source): post for post in rows}

    def _store(self, entry: _Prepared, known: _Known, redirects: dict[str, int] | None) -> Post:
        """Write one prepared post, inside `writing()`: statements only, nothing slow.

        `redirects`: see add_redirect (None: each old URL is looked up).
        """
        item, result = entry.item, entry.result
        key = self._import_key(item.file)
        author_id = self.author.id if self.author else None
        for sha256, filename in entry.images:
            image = self._pending_images.get(sha256)
            if image is not None:  # else stored already, by an earlier batch or import
                store_media(image, filename, author_id)
        # One INSERT or UPDATE per post, as the editor saves (each save bumps the version
        # once): nothing is flushed before save_post. A new post's collections start
        # empty, so that setting them never loads them from the database.
        with db.session.no_autoflush:
            existing = known.posts.get(key)
            post = existing or Post(
                author=self.author,
                import_source=key,
                categories=[],
                tags=[],
                media=[],
                redirects=[],
            )
            db.session.add(post)
            result.outcome = "updated" if existing is not None else "imported"
            post.title = entry.title
            post.slug = item.slug
            post.source = entry.source
            post.source_format = item.source_format
            post.status = item.status
            post.published_at = item.published_at
            post.feature_text = entry.feature_text
            post.feature_image = entry.feature_image
            post.extra = entry.extra
            post.excerpt = entry.excerpt
            set_categories(post, entry.categories, known=known.categories)
            set_tags(post, entry.tags, known=known.tags)
            save_post(post, self.author, entry.rendered, note="imported from Jekyll",
                      updated_at=entry.updated_at)  # fmt: skip
            for old_path in entry.old_paths:
                warning = add_redirect(post, old_path, redirects)
                if warning:
                    result.warnings.append(warning)
        result.post_slug = post.slug
        result.draft = item.status in _NOT_PUBLIC
        return post

    def _updated_at(self, front: dict[str, Any], warnings: list[str]) -> datetime | None:
        for key in ("last_modified_at", "modified", "updated", "lastmod"):
            if front.get(key):
                try:
                    moment, date_warnings = parse_jekyll_date(front[key], self.zone)
                    warnings.extend(date_warnings)
                    return moment
                except DateError as error:
                    warnings.append(f"{key}: {error}")
        return None

    def _old_paths(self, item: _Parsed) -> list[str]:
        """The URLs the post had, to redirect: its permalink and `redirect_from`.

        A draft was never built by Jekyll, so it has no permalink; only the URLs its
        `redirect_from` names (URLs it had before it went back to being a draft; the export
        writes them so) lead to it.
        """
        paths: list[str] = []
        if item.status in _NOT_PUBLIC:
            return self._redirect_from(item, paths)
        assert item.published_at is not None
        template = str(item.front.get("permalink") or permalink_template(self.site.permalink))
        permalink = jekyll_permalink(
            template,
            slug=item.jekyll_slug,
            categories=_categories(item.front, item.file.path_categories),
            published_at=item.published_at,
            site_zone=self.zone,
        )
        paths.append(permalink)
        if self.site.baseurl:
            paths.append(self.site.baseurl + permalink)
        return self._redirect_from(item, paths)

    def _redirect_from(self, item: _Parsed, paths: list[str]) -> list[str]:
        """`paths` and the front matter's `redirect_from`, less the post's own URL."""
        redirect_from = item.front.get("redirect_from") or []
        if isinstance(redirect_from, str):
            redirect_from = [redirect_from]
        if isinstance(redirect_from, list):
            paths = [*paths, *(str(path) for path in redirect_from if path)]
        own = post_path(item.slug)
        return [path for path in paths if unquote(path) != unquote(own)]

    def _excerpt(self, front: dict[str, Any], source: str, source_format: str) -> str:
        for key in ("excerpt", "description"):
            if front.get(key):
                return plain_text(front[key])
        separator = str(front.get("excerpt_separator") or self.site.excerpt_separator)
        for marker in (_MORE, separator):
            if marker and marker != "\n\n" and marker in source:
                text = html_to_text(
                    render_body_within_budget(source.split(marker, 1)[0], source_format)
                )
                if text:
                    return truncate_text(text)
        # Jekyll's default excerpt, the first paragraph, is what Post.summary derives on save.
        return ""

    def _feature_image(self, front: dict[str, Any]) -> str:
        for key in ("image", "cover", "header", "thumbnail", "feature_image"):
            value = front.get(key)
            if isinstance(value, dict):
                value = next((value[k] for k in _IMAGE_KEYS if isinstance(value.get(k), str)), None)
            if isinstance(value, str) and value.strip():
                context = LiquidContext()
                return render_liquid(value.strip(), context)
        return ""

    # -- assets ------------------------------------------------------------------------

    def _import_assets(
        self,
        source: str,
        rendered: str,
        feature_image: str,
        warnings: list[str],
        images: list[tuple[str, str]],
    ) -> tuple[str, str]:
        """Point local image URLs at the media store; `images` gets (sha256, name) of each.

        `rendered` is the body as HTML (the source itself, or its Markdown rendered).
        """
        urls = {
            html.unescape(u) for u in _IMG_SRC.findall(rendered) + _IMAGE_HREF.findall(rendered)
        }
        for double, single in _SRCSET.findall(rendered):
            candidates = html.unescape(double or single).split(",")
            urls.update(words[0] for words in (c.split() for c in candidates) if words)
        if feature_image:
            urls.add(feature_image)
        replacements: dict[str, str] = {}
        for url in sorted(urls):
            local = self._local_asset(url)
            if local is None:
                continue
            new_url = self._asset_url(local, url, warnings, images)
            if new_url:
                replacements[url] = new_url
        for old, new in replacements.items():
            source = source.replace(old, new)
        return source, replacements.get(feature_image, feature_image)

    def _local_asset(self, url: str) -> PurePosixPath | None:
        parts = urlsplit(url)
        site_url = urlsplit(str(self.site.config.get("url") or ""))
        is_absolute = bool(parts.scheme or parts.netloc)
        if is_absolute and not (site_url.netloc and parts.netloc == site_url.netloc):
            return None
        path = unquote(parts.path)
        if not path or path.startswith("/media/"):
            return None
        if self.site.baseurl and path.startswith(self.site.baseurl + "/"):
            path = path[len(self.site.baseurl) :]
        return PurePosixPath(path.lstrip("/"))

    def _asset_url(
        self,
        relative: PurePosixPath,
        url: str,
        warnings: list[str],
        images: list[tuple[str, str]],
    ) -> str | None:
        assert self.assets_dir is not None
        base = self.assets_dir.resolve()
        # DIR may be the site root (assets/img/x.jpg inside it) or the assets folder itself.
        candidates = [base.joinpath(*relative.parts[i:]) for i in range(len(relative.parts))]
        # Themes resolve a bare `image: name.jpg` against their own folder (images/,
        # assets/img/ ...): fall back to the one file of that name under DIR.
        if len(relative.parts) == 1:
            candidates.extend(self._files_named(relative.name))
        for candidate in candidates:
            candidate = candidate.resolve()
            if not candidate.is_relative_to(base) or not candidate.is_file():
                continue
            if candidate not in self._media_cache:
                self._media_cache[candidate] = self._clean_asset(candidate, url, warnings)
            found = self._media_cache[candidate]
            if found is None:
                return None
            sha256, filename = found
            images.append((sha256, filename))
            return media_url_for(sha256, filename)
        warnings.append(f"image {url!r} not found under {self.assets_dir}")
        return None

    def _clean_asset(
        self, candidate: Path, url: str, warnings: list[str]
    ) -> tuple[str, str] | None:
        """(sha256, file name) of the image cleaned for the media store, or None with a warning.

        The cleaned bytes wait in `_pending_images` until a post using them is saved.
        """
        if candidate.stat().st_size > MAX_ASSET_BYTES:
            warnings.append(f"image {url!r}: {candidate.name} is larger than "
                            f"{MAX_ASSET_BYTES // (1024 * 1024)} MB; left as is")  # fmt: skip
            return None
        data = candidate.read_bytes()
        if sniff_image_type(data) is None:
            warnings.append(
                f"image {url!r}: {candidate.name} is not a JPEG, PNG, GIF, WebP, "
                "AVIF or SVG image; left as is"
            )
            return None
        try:
            image = clean_image(data, MAX_ASSET_BYTES, IMPORT_TYPES)
        except UploadError as error:
            warnings.append(f"image {url!r}: {candidate.name}: {error}; left as is")
            return None
        if image.sha256 not in self._media_names:
            # The same picture under two names is one file, named as it was first stored.
            stored_name = db.session.execute(
                select(Media.filename).where(Media.sha256 == image.sha256)
            ).scalar_one_or_none()
            self._media_names[image.sha256] = stored_name or safe_filename(candidate.name)
            if stored_name is None:
                self._pending_images[image.sha256] = image
        return image.sha256, self._media_names[image.sha256]

    def _files_named(self, name: str) -> list[Path]:
        assert self.assets_dir is not None
        if self._files_by_name is None:
            self._files_by_name = {}
            for path in self.assets_dir.rglob("*"):
                if path.suffix.lower() in _IMAGE_SUFFIXES and "_site" not in path.parts:
                    self._files_by_name.setdefault(path.name, []).append(path)
        found = self._files_by_name.get(name, [])
        return found if len(found) == 1 else []


def _acceptable_feature_image(url: str, warnings: list[str]) -> str:
    """The feature image as the editor would accept it, or "" with a warning.

    Themes read `image: assets/x.jpg` from the site root, so a bare path becomes a site
    path; anything but the media store, site paths and https: (javascript:, plain http:)
    is left out. The front matter's own value stays in the post's kept keys.
    """
    if url and not urlsplit(url).scheme and not url.startswith("/"):
        url = "/" + url
    if image_url_problem(url):
        warnings.append(f"feature image {url!r} is not a site path or an https: URL; left out")
        return ""
    return url


class _Skip(Exception):
    """A file Jekyll itself would not treat as a post."""


def _pluralized(front: dict[str, Any], singular: str, plural: str) -> list[str]:
    """Jekyll's Utils.pluralized_array_from_hash: a singular key wins and is not split."""
    value = front.get(singular)
    if value not in (None, "", []):
        values = value if isinstance(value, list) else [value]
    else:
        value = front.get(plural)
        if value in (None, ""):
            return []
        values = (
            value.split()
            if isinstance(value, str)
            else value
            if isinstance(value, list)
            else [value]
        )
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def _categories(front: dict[str, Any], path_categories: list[str]) -> list[str]:
    # Jekyll puts the folders above _posts first, then the front matter's categories.
    names: list[str] = []
    for name in [*path_categories, *_pluralized(front, "category", "categories")]:
        name = unicodedata.normalize("NFC", name)
        if name not in names:
            names.append(name)
    return names


# The list item's text is on its own line: `\s+.*` (spaces that could be either's) was
# retried at every split of a long run of spaces, in quadratic time.
_KRAMDOWN_TOC = re.compile(r"^[*\-+1.]+[^\S\n][^\n]*\n\s*\{:\s*\.?toc\s*\}\s*$", re.M)


def _kramdown_toc(source: str) -> str:
    """kramdown's `* TOC\\n{:toc}` marker becomes Python-Markdown's `[TOC]`."""
    return _KRAMDOWN_TOC.sub("[TOC]", source)


# The look for markdown= stops where a line starts with `<`, where the next block could
# start: [^>]* read every later line again for each `<div` line without a `>`.
_BLOCK_HTML_OPEN = re.compile(
    r"^<(details|div|section|aside|article|figure|blockquote|header|footer)\b"
    r"(?!(?:[^>\n]|\n(?!<))*\bmarkdown=)",
    re.M | re.I,
)


def _markdown_inside_html(source: str) -> str:
    """Mark top-level HTML blocks markdown="1", as kramdown's parse_block_html treats them."""
    return _BLOCK_HTML_OPEN.sub(lambda m: f'<{m[1]} markdown="1"', source)


def _kept_extra(extra: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The unknown front-matter keys, as JSON, that fit in MAX_EXTRA_BYTES; a warning names
    the others. Every post's row carries them, so one post must not carry megabytes."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    size = 2  # {}
    for key, value in _json_safe(extra).items():
        # As one {"key": value} object: its braces stand for the ", " between keys.
        cost = len(json.dumps({key: value}, ensure_ascii=False).encode())
        if size + cost > MAX_EXTRA_BYTES:
            dropped.append(key)
        else:
            kept[key] = value
            size += cost
    if dropped:
        warnings.append(
            f"front matter keys not kept, over {MAX_EXTRA_BYTES // 1024} KB in all: "
            + ", ".join(dropped)
        )
    return kept


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))
