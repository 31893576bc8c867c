"""A Jekyll site on disk: its `_config.yml` and the post files Jekyll would read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .frontmatter import FrontMatterError, load_yaml, normalise_text, parse_front_matter

POST_EXTENSIONS = {".md", ".markdown", ".mkd", ".mkdn", ".mkdown", ".html", ".htm"}
# Files kept beside posts (jekyll-postfiles and similar); not posts, not worth a warning.
ASSET_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg", ".ico",
                    ".bmp", ".pdf", ".css", ".js", ".map", ".mp4", ".webm", ".mp3", ".zip",
                    ".json"}  # fmt: skip
# Folders Jekyll never reads posts from (build output, caches, dependencies).
SKIPPED_DIRS = {
    "_site",
    ".git",
    ".jekyll-cache",
    ".sass-cache",
    "node_modules",
    "vendor",
    ".bundle",
}


@dataclass
class JekyllSite:
    root: Path
    config: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def permalink(self) -> str | None:
        value = self.config.get("permalink")
        return str(value) if value else None

    @property
    def baseurl(self) -> str:
        return str(self.config.get("baseurl") or "").rstrip("/")

    @property
    def excerpt_separator(self) -> str:
        return str(self.config.get("excerpt_separator", "\n\n"))

    def zone(self, fallback: ZoneInfo) -> ZoneInfo:
        name = self.config.get("timezone")
        if not name:
            return fallback
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            self.warnings.append(f"_config.yml: unknown timezone {name!r}; using {fallback.key}")
            return fallback

    def defaults_for(self, relative_path: str) -> dict[str, Any]:
        """Front matter defaults (`defaults:` in _config.yml) that apply to a post."""
        merged: dict[str, Any] = {}
        for entry in self.config.get("defaults") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
                continue
            scope = entry.get("scope") or {}
            if not isinstance(scope, dict):
                continue
            scope_type = scope.get("type")
            scope_path = str(scope.get("path") or "").strip("/")
            if scope_type not in (None, "posts", "drafts"):
                continue
            if scope_path and not (
                relative_path == scope_path or relative_path.startswith(scope_path + "/")
            ):
                continue
            merged.update(entry["values"])
        return merged


def load_site(root: Path) -> JekyllSite:
    """Read `root/_config.yml` if it exists (broken config is a warning, not a failure)."""
    site = JekyllSite(root=root)
    config_file = root / "_config.yml"
    if config_file.is_file():
        try:
            text = normalise_text(config_file.read_text(encoding="utf-8"))
            data = load_yaml(text) or {}
            if isinstance(data, dict):
                site.config = data
            else:
                site.warnings.append("_config.yml is not a mapping; ignored")
        except FrontMatterError as error:  # an alias bomb: reading it leniently would not help
            site.warnings.append(f"_config.yml: {error}; using Jekyll's defaults")
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            data, warnings = _lenient_config(config_file, error)
            site.config = data
            site.warnings.extend(warnings)
    return site


def _lenient_config(config_file: Path, error: Exception) -> tuple[dict[str, Any], list[str]]:
    try:
        text = normalise_text(config_file.read_bytes().decode("utf-8", errors="replace"))
        data, warnings = parse_front_matter(text)
        return data, [f"_config.yml is not valid YAML ({error}); read leniently", *warnings]
    except Exception as second:  # noqa: BLE001 - a broken config must not stop the import
        return {}, [f"_config.yml could not be read ({second}); using Jekyll's defaults"]


@dataclass
class PostFile:
    path: Path
    relative_path: str  # inside the site, '/'-separated
    is_draft: bool
    path_categories: list[str]  # folders above _posts (news/_posts -> ["news"])


def discover_posts(root: Path) -> tuple[list[PostFile], list[tuple[str, str]]]:
    """Post files of a site or of a folder of posts, and (file, reason) for skipped files."""
    if root.is_file():
        return [PostFile(root, root.name, False, [])], []
    has_site_dirs = (root / "_config.yml").exists() or any(
        name in {"_posts", "_drafts"} for _, dirs, _ in _walk(root) for name in dirs
    )
    found: list[PostFile] = []
    skipped: list[tuple[str, str]] = []
    for directory, _dirs, files in _walk(root):
        relative_dir = Path(directory).relative_to(root).as_posix()
        parts = [] if relative_dir == "." else relative_dir.split("/")
        if has_site_dirs:
            special = [i for i, part in enumerate(parts) if part in {"_posts", "_drafts"}]
            if not special:
                continue
            index = special[0]
            is_draft = parts[index] == "_drafts"
            categories = parts[:index]
        else:
            # A plain folder of posts (for example a `_posts` folder given directly).
            is_draft, categories, index = root.name == "_drafts", [], -1
        if any(_jekyll_ignores(part) for part in parts[index + 1 :]):
            continue  # Jekyll skips folders named _x, .x or #x inside _posts
        for name in sorted(files):
            relative = "/".join([*parts, name])
            if name.startswith(".") or Path(name).suffix.lower() in ASSET_EXTENSIONS:
                continue
            if _jekyll_ignores(name):
                skipped.append(
                    (relative, "Jekyll ignores files whose name starts with _ or # or ends with ~")
                )
                continue
            if Path(name).suffix.lower() not in POST_EXTENSIONS:
                # Inside _posts/_drafts a stray file is worth a line; in a plain folder
                # (images, styles next to the posts) it is not.
                if has_site_dirs:
                    skipped.append(
                        (relative, "not a post file (Jekyll reads .md, .markdown, .html)")
                    )
                continue
            found.append(PostFile(Path(directory) / name, relative, is_draft, categories))
    return found, skipped


def _jekyll_ignores(name: str) -> bool:
    """Jekyll's EntryFilter: names starting with _ . # or ending with ~ are not content."""
    return name.startswith(("_", ".", "#")) or name.endswith("~")


def _walk(root: Path):  # type: ignore[no-untyped-def]
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        yield directory, dirs, files
