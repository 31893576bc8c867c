"""The one allowlist every piece of author HTML passes through before it is stored.

nh3 (Rust's ammonia) parses like a browser and keeps only allowlisted tags, attributes and
URL schemes. Inline `style` is the hole ammonia leaves open, so each declaration is checked
here against a list of properties and a strict value grammar.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "blockquote", "br",
    "caption", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl",
    "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "picture", "pre", "q",
    "rp", "rt", "ruby", "s", "samp", "section", "small", "source", "span", "strike", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
    "u", "ul", "var", "wbr",
}  # fmt: skip

# Removed together with their content: their text is code or styling, not prose.
DROPPED_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "embed",
                        "svg", "math", "textarea", "select", "title", "xmp", "noembed",
                        "noframes", "plaintext"}  # fmt: skip

_GLOBAL_ATTRIBUTES = {"id", "class", "style", "title", "lang", "dir", "align"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": _GLOBAL_ATTRIBUTES,
    "a": {"href", "name", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading", "srcset", "sizes"},
    "source": {"srcset", "sizes", "media", "type"},
    "td": {"colspan", "rowspan", "valign", "width", "height"},
    "th": {"colspan", "rowspan", "valign", "width", "height", "scope"},
    "col": {"span", "width"}, "colgroup": {"span", "width"},
    "table": {"width", "border", "cellpadding", "cellspacing", "summary"},
    "ol": {"start", "type", "reversed"}, "li": {"value"},
    "time": {"datetime"}, "abbr": {"title"}, "q": {"cite"}, "blockquote": {"cite"},
    "del": {"cite", "datetime"}, "ins": {"cite", "datetime"}, "details": {"open"},
}  # fmt: skip
# Tistory's editor marks headings, paragraphs, tables and code with data-ke-* attributes;
# they carry its size and style presets, which the theme styles. Nothing else data-* passes
# (data-hx-* would be htmx instructions).
ALLOWED_ATTRIBUTE_PREFIXES = {"data-ke-"}
URL_SCHEMES = {"http", "https", "mailto", "tel"}

# --- CSS -------------------------------------------------------------------------------

_LENGTH = r"(?:0|[+]?\d*\.?\d+(?:px|em|rem|%|pt|pc|cm|mm|in|ex|ch|vw|vh)?)"
_COLOR = (
    r"(?:#[0-9a-f]{3,4}|#[0-9a-f]{6}|#[0-9a-f]{8}|[a-z]{3,20}"
    r"|(?:rgb|rgba|hsl|hsla)\(\s*[\d.%]+\s*,?\s*[\d.%]+\s*,?\s*[\d.%]+\s*(?:[,/]\s*[\d.%]+\s*)?\))"
)
_BORDER_STYLE = r"(?:none|hidden|dotted|dashed|solid|double|groove|ridge|inset|outset)"
_BORDER = rf"(?:(?:{_LENGTH}|thin|medium|thick|{_BORDER_STYLE}|{_COLOR})\s*){{1,3}}"
_LENGTHS = rf"(?:(?:{_LENGTH}|auto)\s*){{1,4}}"


def _one_of(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


_KEYWORDS_ALIGN = _one_of("left", "right", "center", "justify", "start", "end", "inherit")
_FONT_FAMILY = r"(?:(?:\"[\w\s\-]+\"|'[\w\s\-]+'|[\w\s\-]+)\s*,?\s*)+"

CSS_PROPERTIES: dict[str, str] = {
    "color": _COLOR,
    "background-color": _COLOR,
    # The shorthand is allowed only as a colour: anything else could load an image.
    "background": _COLOR,
    "text-align": _KEYWORDS_ALIGN,
    "text-decoration": r"(?:(?:none|underline|overline|line-through|solid|double|dotted|"
    rf"dashed|wavy|{_COLOR})\s*){{1,3}}",
    "text-decoration-line": _one_of("none", "underline", "overline", "line-through"),
    "text-decoration-color": _COLOR,
    "text-decoration-style": _one_of("solid", "double", "dotted", "dashed", "wavy"),
    "text-indent": _LENGTH,
    "text-transform": _one_of("none", "capitalize", "uppercase", "lowercase"),
    "font-weight": _one_of("normal", "bold", "bolder", "lighter", r"[1-9]00"),
    "font-style": _one_of("normal", "italic", "oblique"),
    "font-size": rf"(?:{_LENGTH}|xx-small|x-small|small|medium|large|x-large|xx-large|"
    r"smaller|larger)",
    "font-family": _FONT_FAMILY,
    "line-height": rf"(?:normal|{_LENGTH})",
    "letter-spacing": rf"(?:normal|-?{_LENGTH})",
    "word-break": _one_of("normal", "break-all", "keep-all", "break-word"),
    "white-space": _one_of("normal", "nowrap", "pre", "pre-wrap", "pre-line", "break-spaces"),
    "vertical-align": rf"(?:baseline|sub|super|top|text-top|middle|bottom|text-bottom|{_LENGTH})",
    "width": rf"(?:auto|{_LENGTH})",
    "min-width": _LENGTH,
    "max-width": rf"(?:none|{_LENGTH})",
    "height": rf"(?:auto|{_LENGTH})",
    "min-height": _LENGTH,
    "max-height": rf"(?:none|{_LENGTH})",
    "border": rf"(?:none|{_BORDER})",
    "border-collapse": _one_of("collapse", "separate"),
    "border-spacing": rf"(?:{_LENGTH}\s*){{1,2}}",
    "border-color": rf"(?:{_COLOR}\s*){{1,4}}",
    "border-style": rf"(?:{_BORDER_STYLE}\s*){{1,4}}",
    "border-width": rf"(?:(?:{_LENGTH}|thin|medium|thick)\s*){{1,4}}",
    "border-radius": rf"(?:{_LENGTH}\s*){{1,4}}",
    "padding": rf"(?:{_LENGTH}\s*){{1,4}}",
    # Margins may not be negative: a negative margin can drag content over the page.
    "margin": _LENGTHS,
    "list-style-type": r"[a-z\-]{3,30}",
    "table-layout": _one_of("auto", "fixed"),
    "caption-side": _one_of("top", "bottom"),
    "float": _one_of("left", "right", "none"),
    "clear": _one_of("left", "right", "both", "none"),
}
for _side in ("top", "right", "bottom", "left"):
    CSS_PROPERTIES[f"border-{_side}"] = rf"(?:none|{_BORDER})"
    CSS_PROPERTIES[f"border-{_side}-color"] = _COLOR
    CSS_PROPERTIES[f"border-{_side}-style"] = _BORDER_STYLE
    CSS_PROPERTIES[f"border-{_side}-width"] = rf"(?:{_LENGTH}|thin|medium|thick)"
    CSS_PROPERTIES[f"padding-{_side}"] = _LENGTH
    CSS_PROPERTIES[f"margin-{_side}"] = rf"(?:auto|{_LENGTH})"

_CSS_VALUE_RES = {
    name: re.compile(rf"\s*{pattern}\s*", re.I) for name, pattern in CSS_PROPERTIES.items()
}  # noqa: E501
# Belt and braces: whatever the grammar says, these never pass.
_CSS_FORBIDDEN = re.compile(
    r"url\s*\(|expression|image|binding|behavior|javascript|\\|/\*|@|<|&", re.I
)
_IMPORTANT = re.compile(r"\s*!\s*important\s*$", re.I)


def sanitize_style(style: str) -> str:
    """Keep only allowlisted CSS declarations whose values match their grammar."""
    kept: list[str] = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name, value = name.strip().lower(), _IMPORTANT.sub("", value).strip()
        if not colon or not value or name not in _CSS_VALUE_RES:
            continue
        if _CSS_FORBIDDEN.search(value) or not _CSS_VALUE_RES[name].fullmatch(value):
            continue
        kept.append(f"{name}: {value}")
    return "; ".join(kept)


# Ids the page itself relies on (skip link, htmx's out-of-band targets): an author's
# element must not shadow them.
_RESERVED_IDS = re.compile(r"^(?:main|error-.*|htmx.*)$", re.I)


# A URL is safe if its scheme is allowed or it has none (relative). Read the scheme as
# browsers do: leading/trailing controls and spaces stripped, tabs and newlines removed.
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
URL_ATTRIBUTES = {"href", "src", "cite", "srcset"}


def _safe_url(url: str) -> bool:
    scheme = _SCHEME.match(re.sub(r"[\t\n\r]", "", url.strip(_C0_AND_SPACE)))
    return scheme is None or scheme[1].lower() in URL_SCHEMES


def _safe_url_attribute(attribute: str, value: str) -> str | None:
    """Checked again here: ammonia leaves cite and srcset unchecked."""
    if attribute == "srcset":
        urls = [candidate.strip().split(" ", 1)[0] for candidate in value.split(",")]
    else:
        urls = [value]
    return value if all(_safe_url(url) for url in urls) else None


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style":
        return sanitize_style(value) or None
    if attribute == "id" and _RESERVED_IDS.match(value.strip()):
        return None
    if attribute in URL_ATTRIBUTES:
        return _safe_url_attribute(attribute, value)
    return value


def _clean(html: str, attribute_filter: Callable[[str, str, str], str | None]) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=attribute_filter,
        generic_attribute_prefixes=ALLOWED_ATTRIBUTE_PREFIXES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def sanitize_html(html: str) -> str:
    """Return `html` with everything outside the allowlist removed."""
    dropped = False

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        nonlocal dropped
        kept = _filter_attribute(tag, attribute, value)
        dropped = dropped or kept is None
        return kept

    cleaned = _clean(html, attribute_filter)
    # ammonia puts rel="noopener" where a filtered-out attribute stood; a second pass
    # settles the order, so sanitising stored HTML again never changes it.
    return _clean(cleaned, _filter_attribute) if dropped else cleaned
