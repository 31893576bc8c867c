"""Rules for text people type into one-line fields: one spelling (NFC), nothing invisible.

A NUL byte or a bidirectional override in a name makes two names look alike, a login that
cannot be typed, or a title whose words read in another order (Trojan Source). Such
characters are refused with a message, never silently dropped, so nobody is surprised by
what was stored.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

# Format characters allowed in one-line text: joiners are part of emoji and of Indic and
# Persian spelling, and the plain direction marks are needed in mixed-script titles.
_ALLOWED_FORMAT = {"\u200c", "\u200d", "\u200e", "\u200f", "\u2060"}
# Body text keeps its line breaks and tabs; other C0 controls mean nothing in HTML.
_BODY_CONTROLS = {chr(code) for code in range(0x20) if chr(code) not in "\t\n\r"} | {"\x7f"}
_BODY_CONTROL_TABLE = dict.fromkeys(map(ord, _BODY_CONTROLS))


class TextError(ValueError):
    """Text we refuse; the message names the problem for the person who typed it."""


def _is_invisible(char: str) -> bool:
    category = unicodedata.category(char)
    if category in {"Cc", "Cs", "Co", "Cn"}:
        return True  # controls, lone surrogates, private use, unassigned (incl. U+FFFE)
    return category == "Cf" and char not in _ALLOWED_FORMAT


def clean_line(value: str, *, max_length: int | None = None) -> str:
    """`value` as NFC with outer spaces trimmed; TextError if it holds invisible characters."""
    text = unicodedata.normalize("NFC", value).strip()
    bad = next((char for char in text if _is_invisible(char)), None)
    if bad is not None:
        raise TextError(
            _("This text contains an invisible control character (U+%(code)s); remove it.",
              code=f"{ord(bad):04X}")
        )  # fmt: skip
    if max_length is not None and len(text) > max_length:
        raise TextError(_("This can be at most %(n)s characters long.", n=max_length))
    return text


def has_invisible(value: str) -> bool:
    """Whether `clean_line` would refuse `value` (for checks that only need yes or no)."""
    return any(_is_invisible(char) for char in unicodedata.normalize("NFC", value))


def clean_body(value: str) -> str:
    """A post body or other long text: NFC, CRLF as LF, meaningless control characters gone.

    Pasted text from word processors carries stray form feeds and NULs that no reader
    can see; dropping them changes nothing a reader sees. Lone surrogates become U+FFFD.
    """
    text = value.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(value) else value
    text = text.replace("\r\n", "\n").translate(_BODY_CONTROL_TABLE)
    return unicodedata.normalize("NFC", text)


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
