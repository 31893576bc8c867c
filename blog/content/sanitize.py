"""The one allowlist every piece of author HTML passes through before it is stored.

nh3 (Rust's ammonia) parses like a browser and keeps only allowlisted tags, attributes and
URL schemes. Inline `style` is the hole ammonia leaves open, so each declaration is checked
here against a list of properties and a strict value grammar.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urljoin

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
#
# A declaration value is cut into tokens by one scanner whose alternatives each begin with
# different characters (font-family into names at its commas), and every token is then
# checked on its own against a pattern with no nested or overlapping quantifiers, so a value
# is read in time linear in its length. (One regex per property with repeated optional
# parts, `(?:\d*\.?\d+\s*){1,4}`, backtracked exponentially on a run of digits: ReDoS, and
# the editor's live preview runs this on every keystroke.)

# A second line of defence: no allowed property needs a value this long.
MAX_CSS_VALUE_LENGTH = 1_000

_CSS_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<comma>,)|(?P<string>"[^"]*"|'[^']*')"""
    r"""|(?P<function>[a-z]+\([^()]*\))|(?P<word>[^\s,"'()]+)""",
    re.I,
)
_NUMBER = r"(?:\d+(?:\.\d+)?|\.\d+)"
_LENGTH = rf"(?:0|\+?{_NUMBER}(?:px|em|rem|%|pt|pc|cm|mm|in|ex|ch|vw|vh)?)"
_LENGTH_RE = re.compile(_LENGTH, re.I)
_SIGNED_LENGTH_RE = re.compile(rf"-?{_LENGTH}", re.I)
_COLOUR_WORD_RE = re.compile(r"#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})|[a-z]{3,20}", re.I)
_COLOUR_ARGUMENT_RE = re.compile(rf"{_NUMBER}%?")
_COLOUR_FUNCTIONS = {"rgb", "rgba", "hsl", "hsla"}
_FONT_WEIGHT_NUMBER_RE = re.compile(r"[1-9]00")
_FONT_NAME_RE = re.compile(r"[\w\s\-]+|\"[\w\s\-]+\"|'[\w\s\-]+'")
_LIST_STYLE_NAME_RE = re.compile(r"[a-z\-]{3,30}", re.I)


class _Token(NamedTuple):
    kind: str  # "comma", "string", "function" (name and arguments) or "word"
    text: str


def _css_tokens(value: str, most: int | None = None) -> list[_Token] | None:
    """`value` as tokens without the spaces between them.

    None if a quote or parenthesis is left open, or once there are more than `most` tokens
    (the rest of the value is then never read).
    """
    tokens: list[_Token] = []
    position = 0
    while position < len(value):
        match = _CSS_TOKEN.match(value, position)
        if match is None:
            return None
        position = match.end()
        if match.lastgroup != "space":
            if most is not None and len(tokens) == most:
                return None
            tokens.append(_Token(str(match.lastgroup), match[0]))
    return tokens


_TokenCheck = Callable[[_Token], bool]


def _words(*words: str) -> _TokenCheck:
    allowed = frozenset(words)
    return lambda token: token.kind == "word" and token.text.lower() in allowed


def _matching(pattern: re.Pattern[str]) -> _TokenCheck:
    return lambda token: token.kind == "word" and pattern.fullmatch(token.text) is not None


def _any_of(*checks: _TokenCheck) -> _TokenCheck:
    return lambda token: any(check(token) for check in checks)


def _colour_arguments_allowed(arguments: str) -> bool:
    """Three numbers or percentages, then perhaps an alpha after `,` or `/`.

    Spaces or one comma separate the first three, as in `rgb(1, 2, 3)` and `rgb(1 2 3 / 50%)`.
    """
    count, separator = 0, ""
    for item in arguments.replace(",", " , ").replace("/", " / ").split():
        if item in {",", "/"}:
            if separator or not count:
                return False
            separator = item
        elif count < 4 and _COLOUR_ARGUMENT_RE.fullmatch(item):
            # The alpha needs a `,` or `/` before it, and `/` goes before nothing else.
            if (count == 3 and not separator) or (separator == "/" and count != 3):
                return False
            count, separator = count + 1, ""
        else:
            return False
    return count >= 3 and not separator


def _is_colour(token: _Token) -> bool:
    if token.kind == "word":
        return _COLOUR_WORD_RE.fullmatch(token.text) is not None
    if token.kind == "function":
        name, _, arguments = token.text[:-1].partition("(")
        return name.lower() in _COLOUR_FUNCTIONS and _colour_arguments_allowed(arguments)
    return False


def _values(check: _TokenCheck, most: int = 1) -> Callable[[str], bool]:
    """A value of 1 to `most` tokens, each accepted by `check` (commas never are)."""

    def allowed(value: str) -> bool:
        tokens = _css_tokens(value, most)
        return bool(tokens) and all(check(token) for token in tokens or ())

    return allowed


def _font_family_allowed(value: str) -> bool:
    """Family names, each quoted or of bare words, with a comma between two of them.

    Split on commas with str.split and checked one name at a time: a value of font names
    may be long and is read at C speed, never token by token.
    """
    *names, last = value.split(",")
    names += [last] if last.strip() else []  # a trailing comma is harmless
    return bool(names) and all(_FONT_NAME_RE.fullmatch(name.strip()) for name in names)


_is_length = _matching(_LENGTH_RE)
_is_border_style = _words(
    "none", "hidden", "dotted", "dashed", "solid", "double", "groove", "ridge", "inset", "outset"
)
_is_border_width = _any_of(_is_length, _words("thin", "medium", "thick"))
_TEXT_DECORATION_WORDS = ("none", "underline", "overline", "line-through", "solid", "double",
                          "dotted", "dashed", "wavy")  # fmt: skip
_FONT_SIZE_WORDS = ("xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large",
                    "smaller", "larger")  # fmt: skip
_VERTICAL_ALIGN_WORDS = ("baseline", "sub", "super", "top", "text-top", "middle", "bottom",
                         "text-bottom")  # fmt: skip

# Rules for a whole value that several properties share.
_A_COLOUR = _values(_is_colour)
_A_LENGTH = _values(_is_length)
_AUTO_OR_A_LENGTH = _values(_any_of(_words("auto"), _is_length))
_NONE_OR_A_LENGTH = _values(_any_of(_words("none"), _is_length))
_A_BORDER_STYLE = _values(_is_border_style)
_A_BORDER_WIDTH = _values(_is_border_width)
# Up to three of width, style and colour, in any order.
_A_BORDER = _values(_any_of(_is_border_width, _is_border_style, _is_colour), most=3)

CSS_PROPERTIES: dict[str, Callable[[str], bool]] = {
    "color": _A_COLOUR,
    "background-color": _A_COLOUR,
    # The shorthand is allowed only as a colour: anything else could load an image.
    "background": _A_COLOUR,
    "text-align": _values(_words("left", "right", "center", "justify", "start", "end", "inherit")),
    "text-decoration": _values(_any_of(_words(*_TEXT_DECORATION_WORDS), _is_colour), most=3),
    "text-decoration-line": _values(_words("none", "underline", "overline", "line-through")),
    "text-decoration-color": _A_COLOUR,
    "text-decoration-style": _values(_words("solid", "double", "dotted", "dashed", "wavy")),
    "text-indent": _A_LENGTH,
    "text-transform": _values(_words("none", "capitalize", "uppercase", "lowercase")),
    "font-weight": _values(
        _any_of(_words("normal", "bold", "bolder", "lighter"), _matching(_FONT_WEIGHT_NUMBER_RE))
    ),
    "font-style": _values(_words("normal", "italic", "oblique")),
    "font-size": _values(_any_of(_is_length, _words(*_FONT_SIZE_WORDS))),
    "font-family": _font_family_allowed,
    "line-height": _values(_any_of(_words("normal"), _is_length)),
    "letter-spacing": _values(_any_of(_words("normal"), _matching(_SIGNED_LENGTH_RE))),
    "word-break": _values(_words("normal", "break-all", "keep-all", "break-word")),
    "white-space": _values(
        _words("normal", "nowrap", "pre", "pre-wrap", "pre-line", "break-spaces")
    ),
    "vertical-align": _values(_any_of(_words(*_VERTICAL_ALIGN_WORDS), _is_length)),
    "width": _AUTO_OR_A_LENGTH,
    "min-width": _A_LENGTH,
    "max-width": _NONE_OR_A_LENGTH,
    "height": _AUTO_OR_A_LENGTH,
    "min-height": _A_LENGTH,
    "max-height": _NONE_OR_A_LENGTH,
    "border": _A_BORDER,
    "border-collapse": _values(_words("collapse", "separate")),
    "border-spacing": _values(_is_length, most=2),
    "border-color": _values(_is_colour, most=4),
    "border-style": _values(_is_border_style, most=4),
    "border-width": _values(_is_border_width, most=4),
    "border-radius": _values(_is_length, most=4),
    "padding": _values(_is_length, most=4),
    # Margins may not be negative: a negative margin can drag content over the page.
    "margin": _values(_any_of(_words("auto"), _is_length), most=4),
    "list-style-type": _values(_matching(_LIST_STYLE_NAME_RE)),
    "table-layout": _values(_words("auto", "fixed")),
    "caption-side": _values(_words("top", "bottom")),
    "float": _values(_words("left", "right", "none")),
    "clear": _values(_words("left", "right", "both", "none")),
}
for _side in ("top", "right", "bottom", "left"):
    CSS_PROPERTIES[f"border-{_side}"] = _A_BORDER
    CSS_PROPERTIES[f"border-{_side}-color"] = _A_COLOUR
    CSS_PROPERTIES[f"border-{_side}-style"] = _A_BORDER_STYLE
    CSS_PROPERTIES[f"border-{_side}-width"] = _A_BORDER_WIDTH
    CSS_PROPERTIES[f"padding-{_side}"] = _A_LENGTH
    CSS_PROPERTIES[f"margin-{_side}"] = _AUTO_OR_A_LENGTH

# Belt and braces: whatever the grammar says, these never pass.
_CSS_FORBIDDEN = re.compile(
    r"url\s*\(|expression|image|binding|behavior|javascript|\\|/\*|@|<|&", re.I
)


def css_value_allowed(name: str, value: str) -> bool:
    """Whether `value` (stripped, without `!important`) is allowed for the property `name`.

    Takes time linear in the length of `value`, however long it is.
    """
    allowed = CSS_PROPERTIES.get(name)
    return allowed is not None and allowed(value) and not _CSS_FORBIDDEN.search(value)


def _without_important(value: str) -> str:
    """`value` stripped, less a trailing `!important`.

    Read with str methods: a regex for spaces, `!` and `important` anchored at the end is
    tried again from every space of a long run of them, in quadratic time.
    """
    value = value.strip()
    if value[-len("important") :].lower() == "important":
        rest = value[: -len("important")].rstrip()
        if rest.endswith("!"):
            return rest[:-1].strip()
    return value


def sanitize_style(style: str) -> str:
    """Keep only allowlisted CSS declarations whose values match their grammar."""
    kept: list[str] = []
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name = name.strip().lower()
        if not colon or name not in CSS_PROPERTIES or len(value) > MAX_CSS_VALUE_LENGTH:
            continue
        value = _without_important(value)
        if value and css_value_allowed(name, value):
            kept.append(f"{name}: {value}")
    return "; ".join(kept)


# Ids the page itself relies on (skip link, htmx's out-of-band targets): an author's
# element must not shadow them.
_RESERVED_IDS = re.compile(r"^(?:main|error-.*|htmx.*)$", re.I)


def is_reserved_id(value: str) -> bool:
    """Whether `value` is an id the page keeps for itself, dropped from author content."""
    return _RESERVED_IDS.match(value.strip()) is not None


# A URL is safe if its scheme is allowed or it has none (relative). Read the scheme as
# browsers do: leading/trailing controls and spaces stripped, tabs and newlines removed.
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
# Browsers drop these anywhere in a URL before reading it.
_URL_INVISIBLES = re.compile(r"[\t\n\r]")
URL_ATTRIBUTES = {"href", "src", "cite", "srcset"}


def _safe_url(url: str) -> bool:
    scheme = _SCHEME.match(_URL_INVISIBLES.sub("", url.strip(_C0_AND_SPACE)))
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
    if attribute == "id" and is_reserved_id(value):
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


def with_absolute_urls(html: str, base_url: str) -> str:
    """Sanitised `html` with every link, image and citation address made absolute against
    `base_url` (a feed's reader shows the post away from the site). It passes the same
    allowlist again, so a feed never carries more than the page does."""

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        kept = _filter_attribute(tag, attribute, value)
        if kept is None or attribute not in URL_ATTRIBUTES:
            return kept
        if attribute == "srcset":
            candidates = [candidate.split() for candidate in kept.split(",")]
            return ", ".join(
                " ".join([urljoin(base_url, parts[0]), *parts[1:]]) for parts in candidates if parts
            )
        return urljoin(base_url, kept.strip())

    return _clean(html, attribute_filter)
