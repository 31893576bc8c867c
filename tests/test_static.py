"""Vendored front-end files are what their README says they are."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).parents[1] / "static" / "vendor"


def test_vendored_files_match_their_recorded_checksums() -> None:
    rows = re.findall(
        r"\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|", (VENDOR / "README.md").read_text()
    )
    assert rows, "static/vendor/README.md lists no files"
    for name, checksum in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == checksum, name


def test_base_template_loads_the_vendored_htmx() -> None:
    base = (Path(__file__).parents[1] / "templates" / "base.html").read_text()
    assert "vendor/htmx-2.0.11.min.js" in base and (VENDOR / "htmx-2.0.11.min.js").exists()


def test_editor_page_loads_the_vendored_visual_editor() -> None:
    edit = (Path(__file__).parents[1] / "templates" / "editor" / "edit.html").read_text()
    name = re.search(r"vendor/(visual-editor-tiptap-[0-9.]+\.min\.js)", edit)
    assert name and (VENDOR / name[1]).exists()
    assert f"`{name[1]}`" in (VENDOR / "README.md").read_text()
    # Built from the pinned lockfile with the same Tiptap version as its name says.
    lock = (
        Path(__file__).parents[1] / "frontend" / "visual-editor" / "package-lock.json"
    ).read_text()
    version = name[1].removeprefix("visual-editor-tiptap-").removesuffix(".min.js")
    assert f'"node_modules/@tiptap/core": {{\n      "version": "{version}"' in lock
    # Every package in it keeps its licence notice, in the file the bundle's last line names.
    licences = VENDOR / name[1].replace(".min.js", ".LICENSES.txt")
    notices = licences.read_text()
    for package in ("@tiptap/core", "prosemirror-model", "prosemirror-view", "linkifyjs"):
        assert f"\n{package} " in notices
    assert notices.count("Permission is hereby granted") >= 30
    assert (VENDOR / name[1]).read_text().rstrip().endswith(f"/*! Licences: {licences.name} */")
