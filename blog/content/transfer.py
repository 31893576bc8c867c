"""The whole site as one JSON file, and back (as Ghost's export does).

The file is a versioned dump of the tables that make the site, row by row:

    {"format": "blog-export", "version": 1, "exported_at": "...", "schema": "<revision>",
     "data": {"settings": [...], "users": [...], "categories": [...], "tags": [...],
              "taxonomy_redirects": [...], "media": [...], "posts": [...],
              "post_categories": [...], "post_tags": [...], "post_media": [...],
              "revisions": [...], "redirects": [...]}}

Dates are ISO 8601 in UTC, media bytes base64. Users come without their password hash:
imported ones get none that works and must be given one (`blog reset-password`). Sign-in
sessions, login attempts, reset links, working copies, the audit log and the search index
stay behind (the index is rebuilt).

Importing keeps every id but the users' (matched by name, else new), so URLs, list
cursors (`?before=<time>-<id>`) and media addresses (their content hash) stay the same.
Bodies are rendered again from their source, as a save renders them, never taken from the
file: a hand-made file cannot put unsanitised HTML on a page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String, Table, Text, func, select
from sqlalchemy.exc import DataError, IntegrityError

from ..database import reset_id_sequences, upsert, writing
from ..extensions import db
from ..models import Setting, User, UTCDateTime
from . import search
from .markdown_worker import RenderFailed
from .media import IMPORT_TYPES, UploadError, clean_image, sized_images, sniff_image_type
from .posts import RenderedPost, render_post
from .sanitize import sanitize_html

FORMAT = "blog-export"
VERSION = 1
# In the order they are imported (a row only names rows of tables before it).
TABLES = ("settings", "users", "categories", "tags", "taxonomy_redirects", "media", "posts",
          "post_categories", "post_tags", "post_media", "revisions", "redirects")  # fmt: skip
LEFT_OUT = {"users": frozenset({"password_hash"})}
# Tables that must be empty before an import: the content of a site. Users and settings
# may exist (`blog init` makes an admin and stores a title).
CONTENT_TABLES = ("posts", "revisions", "categories", "tags", "media", "redirects",
                  "taxonomy_redirects")  # fmt: skip
# A password hash nothing matches (werkzeug reads no method in it): imported users
# cannot sign in until someone gives them a password.
NO_PASSWORD = "!imported: needs a new password"
# Profile fields an import gives an account that already exists, so bylines read the same.
PROFILE_FIELDS = ("display_name", "bio", "avatar")
MAX_MEDIA_BYTES = 512 * 1024 * 1024  # a sanity limit, far above any upload limit
RENDER_THREADS = 2


class TransferError(Exception):
    """A file that cannot be imported, or a blog that cannot take it; says why."""


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def _columns(name: str) -> list[Any]:
    left_out = LEFT_OUT.get(name, frozenset())
    return [column for column in _table(name).columns if column.name not in left_out]


def _to_json(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass
class ExportSummary:
    counts: dict[str, int] = field(default_factory=dict)


def export_site(target: Path, now: datetime, schema: str | None) -> ExportSummary:
    """Write the whole site to `target` as JSON (a temporary file renamed into place), read
    in one transaction, so the file is one consistent moment of the site."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    summary = ExportSummary()
    db.session.rollback()  # read from a transaction of our own, begun now
    try:
        # Readable by the owner alone: it holds e-mail addresses and unpublished posts.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as out:
            _write_document(out, now, schema, summary)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
        db.session.rollback()  # end the read transaction
    return summary


def _write_document(
    out: IO[str], now: datetime, schema: str | None, summary: ExportSummary
) -> None:
    # Written row by row: media can be large, and only one row is in memory at a time.
    header = {"format": FORMAT, "version": VERSION, "exported_at": now.isoformat(),
              "schema": schema}  # fmt: skip
    out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "data": {')
    for index, name in enumerate(TABLES):
        out.write(("," if index else "") + f"\n{json.dumps(name)}: [")
        count = 0
        for row in _rows(name):
            out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
            count += 1
        out.write("]")
        summary.counts[name] = count
    out.write("\n}}\n")


def _rows(name: str) -> Iterator[dict[str, Any]]:
    columns = _columns(name)
    table = _table(name)
    statement = select(*columns).order_by(*table.primary_key.columns)
    for row in db.session.execute(statement.execution_options(yield_per=100)):
        yield {
            column.name: _to_json(column, value) for column, value in zip(columns, row, strict=True)
        }


# --- import ------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    counts: dict[str, int] = field(default_factory=dict)
    new_users: list[str] = field(default_factory=list)  # imported without a usable password
    matched_users: list[str] = field(default_factory=list)  # already there: password kept
    rendered_from_file: list[str] = field(default_factory=list)  # slugs: source failed


def read_export(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of the export at `path`, each value checked against its column; a
    TransferError naming the problem for anything malformed."""
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except OSError as error:
        raise TransferError(f"{path} cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise TransferError(
            f"{path} is not UTF-8 text: {error.reason} at byte {error.start}"
        ) from None
    except json.JSONDecodeError as error:
        raise TransferError(
            f"{path} is not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except RecursionError:
        raise TransferError(f"{path} nests too deep to be a blog export") from None
    return check_document(document)


def check_document(document: Any) -> dict[str, list[dict[str, Any]]]:
    """The checked rows of a parsed export (see read_export)."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferError(f'not a blog export: the file has no "format": "{FORMAT}"')
    version = document.get("version")
    if version != VERSION:
        raise TransferError(
            f"export format version {version!r} is not one this blog reads (it reads version "
            f"{VERSION}): import it with the version of the blog that made it, or a newer one"
        )
    data = document.get("data")
    if not isinstance(data, dict):
        raise TransferError('the file has no "data" object')
    unknown = sorted(set(data) - set(TABLES))
    if unknown:
        raise TransferError(f"data holds unknown tables: {', '.join(map(str, unknown))}")
    checked = {name: _check_rows(name, data.get(name, [])) for name in TABLES}
    _check_references(checked)
    return checked


def _check_rows(name: str, rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list):
        raise TransferError(f"data.{name} is not a list")
    columns = {column.name: column for column in _columns(name)}
    checked = []
    for index, row in enumerate(rows):
        where = f"data.{name}[{index}]"
        if not isinstance(row, dict):
            raise TransferError(f"{where} is not an object")
        unknown = sorted(set(row) - set(columns))
        if unknown:
            raise TransferError(f"{where} has unknown field(s): {', '.join(unknown)}")
        values = {}
        for column in columns.values():
            if column.name not in row:
                if column.primary_key or not (
                    column.nullable or column.default is not None or column.server_default
                ):
                    raise TransferError(f"{where} has no {column.name}")
                continue
            values[column.name] = _from_json(column, row[column.name], f"{where}.{column.name}")
        checked.append(values)
    return checked


def _from_json(column: Any, value: Any, where: str) -> Any:
    """`value` as the column takes it; TransferError naming `where` if it cannot be."""
    if value is None:
        if column.nullable and not column.primary_key:
            return None
        raise TransferError(f"{where} may not be null")
    kind = column.type
    if isinstance(kind, UTCDateTime):
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise TransferError(f"{where} is not an ISO 8601 date with a zone: {value!r:.80}")
        return moment
    if isinstance(kind, LargeBinary):
        try:
            return base64.b64decode(value, validate=True)
        except (TypeError, ValueError, binascii.Error):
            raise TransferError(f"{where} is not base64") from None
    if isinstance(kind, Boolean):
        if isinstance(value, bool):
            return value
        raise TransferError(f"{where} is not true or false: {value!r:.80}")
    if isinstance(kind, Integer):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise TransferError(f"{where} is not a whole number: {value!r:.80}")
    if isinstance(kind, String | Text):  # Text is a String; both named for the reader
        if isinstance(value, str) and "\x00" not in value:
            return value
        raise TransferError(f"{where} is not text: {value!r:.80}")
    if isinstance(kind, JSON):
        return value
    raise TransferError(f"{where}: a column of type {kind} cannot be imported")  # pragma: no cover


def _check_references(data: dict[str, list[dict[str, Any]]]) -> None:
    """Every id a row names is a row of the file (the database would refuse it less clearly)."""
    ids = {name: {row.get("id") for row in rows} for name, rows in data.items()}
    for name in TABLES:
        for column in _columns(name):
            for key in column.foreign_keys:
                target = key.column.table.name
                for index, row in enumerate(data[name]):
                    value = row.get(column.name)
                    if value is not None and value not in ids[target]:
                        where = f"data.{name}[{index}].{column.name}"
                        raise TransferError(f"{where}: {value} is not among data.{target}")


def site_is_empty() -> dict[str, int]:
    """The content the blog already holds, by table (empty: nothing)."""
    held = {}
    for name in CONTENT_TABLES:
        count = db.session.execute(select(func.count()).select_from(_table(name))).scalar_one()
        if count:
            held[name] = count
    return held


def import_site(data: dict[str, list[dict[str, Any]]]) -> ImportSummary:
    """Import checked rows (read_export) into this blog, which must hold no content: one
    write transaction, so a failed import leaves the blog as it was."""
    held = site_is_empty()
    if held:
        what = ", ".join(f"{count} {name}" for name, count in held.items())
        raise TransferError(
            f"this blog is not empty ({what}): import into a new blog (`blog init --no-sample` "
            "with an empty data directory)"
        )
    summary = ImportSummary()
    media = _checked_media(data["media"])
    # The expensive part, before the write lock: render every body as a save would.
    # Markdown renders in worker processes (markdown_worker), two at a time as the Jekyll
    # importer does.
    with ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="import-render") as pool:
        renderings = pool.map(lambda row: _render(row, summary), data["posts"])
        rendered = {
            row["id"]: rendering for row, rendering in zip(data["posts"], renderings, strict=True)
        }
    sizes = {row["sha256"]: (row.get("width"), row.get("height")) for row in media}
    db.session.rollback()  # end the read transaction the check above began
    try:
        with writing() as session:
            for row in data["settings"]:
                upsert(session, Setting, row, ["key"])
            user_ids = _import_users(data["users"], summary)
            remap = _remapper(user_ids)
            for name in TABLES[2:]:
                rows = [remap(name, row) for row in data[name]]
                if name == "posts":
                    rows = [_with_rendering(row, rendered[row["id"]], sizes) for row in rows]
                _insert(session, name, rows)
                summary.counts[name] = len(rows)
            reset_id_sequences(session, [name for name in TABLES if "id" in _table(name).c])
            search.reindex_posts(row["id"] for row in data["posts"])
    except (IntegrityError, DataError) as error:
        # DataError: a value PostgreSQL refuses (text longer than its column), where
        # SQLite, which does not enforce lengths, would have stored it.
        raise TransferError(f"the file breaks a rule of the database: {error.orig}") from None
    summary.counts["settings"] = len(data["settings"])
    summary.counts["users"] = len(data["users"])
    return summary


def _insert(session: Any, name: str, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows, several at a time: those that name the same columns together (a
    column a row leaves out takes its default)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(_table(name).insert(), group)


def _checked_media(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The media rows, each checked as the store checks a file (a readable image of a type
    it takes, within its limits) and against its own hash. Stored as they come: they were
    cleaned when they entered the exporting blog, and cleaning again would re-encode
    (JPEG) and change their addresses."""
    for index, row in enumerate(rows):
        where = f"data.media[{index}] ({row.get('filename', '')!r:.80})"
        data = row["data"]
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise TransferError(f"{where}: its bytes do not match its sha256")
        if row["size"] != len(data):
            raise TransferError(f"{where}: its size is {row['size']}, its bytes {len(data)}")
        kind = sniff_image_type(data)
        if kind != row["content_type"]:
            raise TransferError(
                f"{where}: the bytes are {kind or 'no image'}, not {row['content_type']}"
            )
        try:
            clean_image(data, MAX_MEDIA_BYTES, IMPORT_TYPES)
        except UploadError as error:
            raise TransferError(f"{where}: {error}") from None
    return rows


def _render(row: dict[str, Any], summary: ImportSummary) -> RenderedPost:
    excerpt, feature_text = row.get("excerpt", ""), row.get("feature_text", "")
    try:
        return render_post(row.get("source", ""), row.get("source_format", "markdown"),
                           excerpt, feature_text)  # fmt: skip
    except RenderFailed:
        # As `blog rerender` does for such a post: keep the body it had (sanitised again).
        summary.rendered_from_file.append(row["slug"])
        body = sanitize_html(row.get("body_html", ""))
        return RenderedPost.from_body(body, excerpt, feature_text)


def _with_rendering(
    row: dict[str, Any], rendered: RenderedPost, sizes: dict[str, tuple[int | None, int | None]]
) -> dict[str, Any]:
    return {**row, "body_html": sized_images(rendered.body_html, sizes),
            "summary": rendered.summary, "reading_minutes": rendered.reading_minutes}  # fmt: skip


def _import_users(rows: list[dict[str, Any]], summary: ImportSummary) -> dict[int, int]:
    """Users by name: one that exists keeps its password and role and takes the file's
    profile; the others are added without a usable password. Their file id -> id here."""
    existing = {user.username: user for user in db.session.execute(select(User)).scalars()}
    ids = {}
    for row in rows:
        user = existing.get(row["username"])
        if user is not None:
            for name in PROFILE_FIELDS:
                if name in row:
                    setattr(user, name, row[name])
            summary.matched_users.append(user.username)
        else:
            values = {key: value for key, value in row.items() if key != "id"}
            user = User(**values, password_hash=NO_PASSWORD)
            db.session.add(user)
            summary.new_users.append(user.username)
        db.session.flush()
        ids[row["id"]] = user.id
    return ids


def _remapper(user_ids: dict[int, int]) -> Any:
    """Rows with their user references turned into this blog's user ids."""
    user_columns = {
        name: [column.name for column in _columns(name)
               if any(key.column.table.name == "users" for key in column.foreign_keys)]
        for name in TABLES
    }  # fmt: skip

    def remap(name: str, row: dict[str, Any]) -> dict[str, Any]:
        changed = dict(row)
        for column in user_columns[name]:
            if changed.get(column) is not None:
                changed[column] = user_ids[changed[column]]
        return changed

    return remap
