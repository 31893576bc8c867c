"""`blog export-jekyll`: the blog written out as a Jekyll site that `import-jekyll` reads back.

Every post becomes a file whose front matter the importer turns into the same post: the
same title, slug (the file name), status, date, categories, tags, excerpt, feature text and
image, the same old URLs (`permalink:` and `redirect_from:`; a draft's in `redirect_from:`)
and the keys the import kept (Post.extra). Drafts go in `_drafts/` with `published: false`;
posts waiting for review too, with `status: pending`. Stored media go under
`assets/media/`, and the posts point at them there.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from ...extensions import db
from ...models import Media, Post, PostStatus, SourceFormat
from ..markup import plain_text
from ..posts import POST_URL_PREFIX
from ..redirects import normalise_path
from ..settings import site_settings
from .frontmatter import REVIEW_STATUS, waits_for_review

ASSETS_FOLDER = "assets/media"
# A stored file's URL, as media_url_for() writes it: the hash names the file, the name part
# is quoted (no quotes, brackets, spaces or parentheses in it).
_MEDIA_URL = re.compile(r"/media/(?P<sha>[0-9a-f]{64})/(?P<name>[^\s\"'<>()\[\]?#]*)")
# What Liquid would read in a body; the importer resolves Liquid, so such text is wrapped
# in {% raw %}. An {% endraw %} in the text itself is written as a Liquid string instead.
_LIQUID = re.compile(r"\{[{%]")
_ENDRAW = re.compile(r"({%-?\s*endraw\s*-?%})")
# Keys the exporter writes from the post's own columns, over what Post.extra holds.
_DERIVED_KEYS = {"permalink", "redirect_from", "hidden", "slug"}
_NOT_PUBLIC = {PostStatus.DRAFT.value, PostStatus.PENDING.value}
_BATCH = 200  # posts read at a time


class ExportError(Exception):
    """The export was refused before anything was written."""


@dataclass
class ExportReport:
    posts: int = 0
    drafts: int = 0
    media: int = 0
    notes: list[str] = field(default_factory=list)


def export_jekyll(target: Path, *, force: bool = False) -> ExportReport:
    """Write every post (not the trash) and every stored file under `target`.

    A `target` holding anything is refused unless `force`; even then nothing in it is
    deleted: files are written over, and post files this export did not write are named
    in the report (a re-import would bring them in too).
    """
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} is a file, not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ExportError(
            f"{target} is not empty; choose an empty or new folder, or give --force to "
            "write over the files of the same names (nothing else is deleted)"
        )
    settings = site_settings()
    zone = ZoneInfo(str(settings["timezone"]))
    report = ExportReport()
    target.mkdir(parents=True, exist_ok=True)
    asset_urls = _export_media(target, report)
    written: set[Path] = set()
    uses_redirect_from = False
    ids = (
        db.session.execute(select(Post.id).where(Post.deleted_at.is_(None)).order_by(Post.id))
        .scalars()
        .all()
    )
    for post in _posts(ids):
        front = front_matter(post, zone, asset_urls)
        uses_redirect_from = uses_redirect_from or "redirect_from" in front
        path = target / post_file_path(post, zone)
        _write(path, _document(front, _body(post, asset_urls, report)))
        written.add(path)
        report.posts += 1
        if post.status in _NOT_PUBLIC:
            report.drafts += 1
    config: dict[str, Any] = {
        "title": str(settings["title"]),
        "timezone": zone.key,
        # Every post names its own permalink; this is the blog's style for new posts.
        "permalink": POST_URL_PREFIX + ":title",
    }
    if uses_redirect_from:
        config["plugins"] = ["jekyll-redirect-from"]
    _write(target / "_config.yml", _yaml(config))
    for folder in ("_posts", "_drafts"):
        for stale in sorted((target / folder).rglob("*")) if (target / folder).is_dir() else []:
            if stale.is_file() and stale not in written:
                relative = stale.relative_to(target).as_posix()
                report.notes.append(f"{relative} was there before and is left as it was")
    return report


def _posts(ids: list[int]) -> Iterator[Post]:
    """The posts, a batch at a time: a large blog's bodies are never all in memory."""
    for start in range(0, len(ids), _BATCH):
        yield from db.session.execute(
            select(Post)
            .where(Post.id.in_(ids[start : start + _BATCH]))
            .options(
                undefer(Post.extra),
                selectinload(Post.categories),
                selectinload(Post.tags),
                selectinload(Post.redirects),
            )
            .order_by(Post.id)
        ).scalars()


def post_file_path(post: Post, zone: ZoneInfo) -> str:
    """`_posts/YYYY-MM-DD-slug.md` (the date in the site's zone), `_drafts/slug.md` for drafts."""
    extension = "html" if post.source_format == SourceFormat.HTML.value else "md"
    if post.status in _NOT_PUBLIC:
        return f"_drafts/{post.slug}.{extension}"
    moment = post.published_at or post.created_at
    return f"_posts/{moment.astimezone(zone):%Y-%m-%d}-{post.slug}.{extension}"


def front_matter(post: Post, zone: ZoneInfo, asset_urls: dict[str, str]) -> dict[str, Any]:
    """The post's front matter: its columns first, then every key the import kept."""
    extra: dict[str, Any] = dict(post.extra or {})
    front: dict[str, Any] = {"title": _plain_field(post.title)}
    if post.published_at is not None:
        front["date"] = jekyll_date(post.published_at, zone)
    elif post.status not in _NOT_PUBLIC:  # a file in _posts needs a date: the name's
        front["date"] = jekyll_date(post.created_at, zone)
    if post.categories:
        front["categories"] = [category.name for category in post.categories]
    if post.tags:
        front["tags"] = [tag.name for tag in post.tags]
    if post.excerpt:
        front["excerpt"] = _plain_field(post.excerpt)
    if post.feature_text:
        front["feature_text"] = _plain_field(post.feature_text)
    if post.feature_image:
        front["image"] = _asset_urls_in(post.feature_image, asset_urls)
    if post.status in _NOT_PUBLIC:
        front["published"] = False
        # Jekyll has no "waiting for review": a key of our own, that the importer reads.
        if post.status == PostStatus.PENDING.value:
            front["status"] = REVIEW_STATUS
        elif waits_for_review(extra):  # kept from an import; the post waits no more
            del extra["status"]
    elif post.status == PostStatus.UNLISTED.value:
        front["hidden"] = True  # what the importer reads as unlisted (and Jekyll themes hide)
    elif "hidden" in extra:
        front["hidden"] = False  # made public since its import
    if post.status not in _NOT_PUBLIC:
        front.update(_old_urls(post, extra))
    elif post.redirects:
        # A draft has no URL in Jekyll (no permalink), but the URLs it had before it went
        # back to being a draft still lead to it: redirect_from, which the importer reads.
        urls = _old_urls(post, extra)
        front["redirect_from"] = [urls["permalink"], *urls.get("redirect_from", [])]
    if "slug" in extra:
        front["slug"] = post.slug  # the file name says the same
    for key, value in extra.items():
        if key not in front and key not in _DERIVED_KEYS:
            front[key] = value
    return front


def jekyll_date(moment: datetime, zone: ZoneInfo) -> str:
    """`2024-07-22 09:00:00 +0900`: in the site's zone, with its offset (and microseconds
    only when there are some), as Jekyll writes and both Jekyll and the importer read."""
    local = moment.astimezone(zone)
    fraction = f".{local.microsecond:06d}" if local.microsecond else ""
    return f"{local:%Y-%m-%d %H:%M:%S}{fraction} {local:%z}"


def _old_urls(post: Post, extra: dict[str, Any]) -> dict[str, Any]:
    """`permalink`: the URL the post had before (its oldest redirect), or its URL here;
    `redirect_from`: its other old URLs. The importer makes them the same redirects."""
    old = [redirect.old_path for redirect in sorted(post.redirects, key=lambda r: r.id)]
    if not old:  # written as read, not percent-encoded: Jekyll takes it literally
        return {"permalink": POST_URL_PREFIX + post.slug}
    kept = extra.get("permalink")
    # A permalink written as a path (no :placeholders) keeps its own spelling.
    if isinstance(kept, str) and ":" not in kept and normalise_path(kept) in old:
        permalink = kept
    else:
        permalink = old[0]
    taken = {normalise_path(permalink)}
    redirect_from: list[str] = []
    listed = extra.get("redirect_from")
    listed = [listed] if isinstance(listed, str) else listed if isinstance(listed, list) else []
    for path in [*(str(p) for p in listed if p), *old]:
        if normalise_path(path) in old and normalise_path(path) not in taken:
            taken.add(normalise_path(path))
            redirect_from.append(path)
    urls: dict[str, Any] = {"permalink": permalink}
    if redirect_from:
        urls["redirect_from"] = redirect_from
    return urls


def _plain_field(value: str) -> str:
    """A title, excerpt or feature text written so that the importer reads back the same:
    it decodes entities and drops tags, so text that would change is written escaped."""
    if plain_text(value) == value:
        return value
    escaped = html.escape(value, quote=False)
    return escaped if plain_text(escaped) == value else value


def _body(post: Post, asset_urls: dict[str, str], report: ExportReport) -> str:
    """The stored source (Markdown, or HTML before sanitising: the importer sanitises it
    again to the same page), media pointing at assets/, Liquid-looking text kept literal."""
    source = _asset_urls_in(post.source, asset_urls)
    for url in sorted(set(_MEDIA_URL.findall(source))):
        report.notes.append(f"{post.slug}: /media/{url[0]}/{url[1]} is not a stored file; "
                            "left as it is")  # fmt: skip
    if not _LIQUID.search(source):
        return source
    pieces = []
    for index, piece in enumerate(_ENDRAW.split(source)):
        if index % 2:  # an {% endraw %} of the text itself
            pieces.append('{{ "' + piece + '" }}')
        elif piece:
            pieces.append("{% raw %}" + piece + "{% endraw %}")
    return "".join(pieces)


def _asset_urls_in(text: str, asset_urls: dict[str, str]) -> str:
    return _MEDIA_URL.sub(lambda m: asset_urls.get(m["sha"], m[0]), text)


def _export_media(target: Path, report: ExportReport) -> dict[str, str]:
    """Write every stored file under assets/media/; return sha256 -> its URL there.

    A file keeps its name; names two files share (whatever their case, for file systems
    that ignore it) go in a folder named after the start of their hash.
    """
    rows = db.session.execute(select(Media.id, Media.sha256, Media.filename)).all()
    shared = Counter(filename.casefold() for _id, _sha, filename in rows)
    base = (target / ASSETS_FOLDER).resolve()
    urls: dict[str, str] = {}
    for media_id, sha256, filename in rows:
        relative = filename if shared[filename.casefold()] == 1 else f"{sha256[:12]}/{filename}"
        path = (base / relative).resolve()
        if not path.is_relative_to(base) or path == base:  # names are safe_filename()'s
            report.notes.append(f"stored file {filename!r} has a name that cannot be a file")
            continue
        data = db.session.execute(select(Media.data).where(Media.id == media_id)).scalar_one()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        urls[sha256] = f"/{ASSETS_FOLDER}/{quote(relative)}"
        report.media += 1
    return urls


def _yaml(data: dict[str, Any]) -> str:
    # No line folding: long excerpts stay one line, as authors write them.
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1_000_000
    )


def _document(front: dict[str, Any], body: str) -> str:
    return f"---\n{_yaml(front)}---\n{body}"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
