"""Static files under names that carry a hash of their content, kept by browsers for a year.

Templates name a static file through one helper, `static_url("css/blog.css")`, which gives
`/static/css/blog.3f2a9c1e.css`: the first 8 hex digits of the file's SHA-256 before its
extension. Those names are answered with `Cache-Control: public, max-age=31536000,
immutable`: a changed file gets a new name, so a browser never has to ask again. The hashes are
computed once, when the app is created (a deploy restarts the server).

The plain name (`/static/css/blog.css`) keeps working, for old links and hand-written ones,
with `no-cache` and an ETag, so it is revalidated every time. A hashed name whose hash is no
longer the file's (a page from before the last deploy) is redirected to the current one.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask import Flask, Response, current_app, redirect, send_from_directory, url_for

ONE_YEAR = 31536000


@dataclass(frozen=True)
class Manifest:
    hashed: dict[str, str]  # the file's own name -> its name with the hash
    files: dict[str, str]  # the name with the hash -> the file's own name


def hashed_name(name: str, content: bytes) -> str:
    path = PurePosixPath(name)
    digest = hashlib.sha256(content).hexdigest()[:8]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def build_manifest(folder: Path) -> Manifest:
    hashed = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            name = path.relative_to(folder).as_posix()
            hashed[name] = hashed_name(name, path.read_bytes())
    return Manifest(hashed, {versioned: name for name, versioned in hashed.items()})


def without_hash(filename: str) -> str | None:
    """`css/blog.0badc0de.css` -> `css/blog.css`; None for a name that carries no hash."""
    path = PurePosixPath(filename)
    stem, _, digest = path.stem.rpartition(".")
    if not stem or len(digest) != 8 or not set(digest) <= set(string.hexdigits.lower()):
        return None
    return str(path.with_name(stem + path.suffix))


def _manifest() -> Manifest:
    manifest: Manifest = current_app.extensions["static_manifest"]
    return manifest


def static_url(filename: str) -> str:
    """The URL of a static file under its hashed name (the plain name if it is not known)."""
    return url_for("static", filename=_manifest().hashed.get(filename, filename))


def serve_static(filename: str) -> Response:
    manifest = _manifest()
    folder = str(current_app.static_folder)
    name = manifest.files.get(filename)
    if name is not None:
        response = send_from_directory(folder, name, max_age=ONE_YEAR)
        response.cache_control.immutable = True
        return response
    current = without_hash(filename)
    if current in manifest.hashed and filename not in manifest.hashed:
        response = redirect(static_url(current))
        response.cache_control.no_cache = True
        return response
    # The plain name: revalidated each time (no-cache, ETag), Flask's default.
    return send_from_directory(folder, filename)


def register(app: Flask) -> None:
    assert app.static_folder is not None
    app.extensions["static_manifest"] = build_manifest(Path(app.static_folder))
    app.view_functions["static"] = serve_static
    app.jinja_env.globals["static_url"] = static_url
