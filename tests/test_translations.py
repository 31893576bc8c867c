"""Every user-facing string has Korean, and the compiled catalogue matches its source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[1]
KO = ROOT / "blog" / "translations" / "ko" / "LC_MESSAGES"


def test_every_string_in_the_code_has_korean(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [Path(sys.executable).parent / "pybabel", "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "--no-location", "--omit-header", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    wanted = {message.id for message in read_po(pot.open("rb")) if message.id}
    korean = {m.id: m.string for m in read_po((KO / "messages.po").open("rb")) if m.id}
    missing = sorted(wanted - {key for key, text in korean.items() if text})
    assert not missing, f"run `make translations` and translate: {missing}"


def _hashable(value: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    # Plural messages (ngettext) come back from a .mo file as lists.
    return tuple(value) if isinstance(value, list) else value


def test_compiled_catalogue_matches_the_po_file() -> None:
    # Keyed by context too: pgettext("role", "Author") is 글쓴이, the heading "Author" 작성자.
    source = {(m.context, _hashable(m.id)): _hashable(m.string)
              for m in read_po((KO / "messages.po").open("rb")) if m.id}  # fmt: skip
    compiled = {(m.context, _hashable(m.id)): _hashable(m.string)
                for m in read_mo((KO / "messages.mo").open("rb")) if m.id}  # fmt: skip
    assert compiled == source, "run `make translations` to compile messages.mo"
