"""The Liquid a Jekyll post body contains: resolved where the meaning is known, else kept.

Jekyll renders Liquid before Markdown. We resolve what has a fixed meaning on the new blog
({% raw %}, {% highlight %}, {% post_url %}, site.url/baseurl, relative_url, page.title) and
leave every other tag visible in the text, reporting it so the author can fix it by hand.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

# Blocks are found as an opening tag and, searched for from there, the first closing one: a
# single regex with a lazy `.*?` between them is tried again from every later opening when
# the closing tag is missing, in quadratic time. See _blocks.
_RAW_OPEN = re.compile(r"{%-?\s*raw\s*-?%}")
_RAW_CLOSE = re.compile(r"{%-?\s*endraw\s*-?%}")
# The language is never cut short (?!...): the options after it cannot end up re-reading it.
_HIGHLIGHT_OPEN = re.compile(r"{%-?\s*highlight\s+(?P<lang>[\w+#.-]+)(?![\w+#.-])[^%]*%}")
_HIGHLIGHT_CLOSE = re.compile(r"{%-?\s*endhighlight\s*-?%}")
_POST_URL = re.compile(r"{%-?\s*post_url\s+(?P<name>[^\s%]+)\s*-?%}")
_LINK = re.compile(r"{%-?\s*link\s+(?P<path>[^\s%]+)\s*-?%}")
_OUTPUT_OPEN = re.compile(r"{{-?")
_OUTPUT_CLOSE = re.compile(r"}}")
_TAG_OPEN = re.compile(r"{%-?\s*(?P<name>\w+)")
_TAG_CLOSE = re.compile(r"%}")
_STRING = re.compile(r"""^(?:'(?P<single>[^']*)'|"(?P<double>[^"]*)")$""")
_PLACEHOLDER = "\x00liquid-raw-{}\x00"


@dataclass
class LiquidContext:
    """What the post's Liquid may refer to: its front matter, the site's config."""

    page: dict[str, Any] = field(default_factory=dict)
    site: dict[str, Any] = field(default_factory=dict)
    zone: tzinfo = UTC
    resolve_post_url: Callable[[str], str | None] = lambda name: None
    warnings: list[str] = field(default_factory=list)


def _code_block(language: str, code: str) -> str:
    # An HTML block is left alone by Markdown and stays correct in HTML posts too.
    escaped = html.escape(code.rstrip("\n"), quote=False)
    return f'\n<pre><code class="language-{html.escape(language)}">{escaped}</code></pre>\n'


_MISSING = object()


def _lookup(path: str, context: LiquidContext) -> Any:
    """`site.x.y` / `page.x` as Jekyll would see them; _MISSING when we cannot know."""
    scope, _, rest = path.partition(".")
    if path in {"site.url", "site.baseurl"}:
        return ""  # the new blog serves from its own root
    if scope not in {"site", "page"} or not rest:
        return _MISSING
    value: Any = context.site if scope == "site" else context.page
    for key in rest.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value if isinstance(value, str | int | float | bool | datetime) else _MISSING


def _as_text(value: Any, context: LiquidContext) -> str:
    if isinstance(value, datetime):
        return value.astimezone(context.zone).strftime("%Y-%m-%d %H:%M:%S %z")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _apply_filter(value: Any, name: str, argument: str | None, context: LiquidContext) -> Any:
    if name in {"relative_url", "absolute_url"}:
        text = _as_text(value, context)
        return text if not text or text.startswith(("/", "#", "http")) else "/" + text
    if isinstance(value, datetime) and (name in _DATE_FORMATS or name == "date"):
        fmt = _DATE_FORMATS.get(name) or argument
        return value.astimezone(context.zone).strftime(fmt) if fmt else _MISSING
    simple = {"escape": html.escape, "xml_escape": html.escape, "upcase": str.upper,
              "downcase": str.lower, "capitalize": str.capitalize, "strip": str.strip}  # fmt: skip
    if name in simple:
        return simple[name](_as_text(value, context))
    return _MISSING


_DATE_FORMATS = {"date_to_string": "%d %b %Y", "date_to_long_string": "%d %B %Y",
                 "date_to_xmlschema": "%Y-%m-%dT%H:%M:%S%z"}  # fmt: skip
_FILTER = re.compile(r"""^(?P<name>\w+)(?:\s*:\s*(?:'(?P<s>[^']*)'|"(?P<d>[^"]*)"))?$""")


def _output(expr: str, context: LiquidContext) -> str | None:
    """Value of a `{{ ... }}` expression we understand, or None to leave it as written."""
    value_text, *filters = [part.strip() for part in expr.split("|")]
    string = _STRING.match(value_text)
    if string:
        value: Any = string["single"] if string["single"] is not None else string["double"]
    else:
        value = _lookup(value_text, context)
    for text in filters:
        match = _FILTER.match(text)
        if value is _MISSING or match is None:
            return None
        argument = match["s"] if match["s"] is not None else match["d"]
        value = _apply_filter(value, match["name"], argument, context)
    return None if value is _MISSING else _as_text(value, context)


def _blocks(
    text: str, opening: re.Pattern[str], closing: re.Pattern[str]
) -> Iterator[tuple[re.Match[str], re.Match[str]]]:
    """Each opening with the first closing after it, left to right, as re.sub would pair them.

    Once an opening has no closing after it, no later opening has one either: the search
    stops there, so the text is read a bounded number of times.
    """
    position = 0
    while (start := opening.search(text, position)) and (end := closing.search(text, start.end())):
        yield start, end
        position = end.end()


def _replace_blocks(
    text: str,
    opening: re.Pattern[str],
    closing: re.Pattern[str],
    replacement: Callable[[re.Match[str], str, str], str],
) -> str:
    """`text` with each block replaced by replacement(opening, inside, whole block)."""
    pieces: list[str] = []
    position = 0
    for start, end in _blocks(text, opening, closing):
        pieces += [text[position : start.start()]]
        inside, whole = text[start.end() : end.start()], text[start.start() : end.end()]
        pieces += [replacement(start, inside, whole)]
        position = end.end()
    return "".join(pieces) + text[position:]


def _expression(inside: str) -> str:
    """The expression of `{{ expr }}` / `{{- expr -}}` between the braces' spaces and dashes."""
    inside = inside.lstrip()
    return (inside[:-1] if inside.endswith("-") else inside).rstrip()


def render_liquid(body: str, context: LiquidContext) -> str:
    """Resolve known Liquid in `body`; record unknown tags in context.warnings."""
    protected: list[str] = []

    def protect(text: str) -> str:
        protected.append(text)
        return _PLACEHOLDER.format(len(protected) - 1)

    body = _replace_blocks(body, _RAW_OPEN, _RAW_CLOSE, lambda _, inside, __: protect(inside))

    def highlight(opening: re.Match[str], code: str, _: str) -> str:
        code = code[1:] if code.startswith("\n") else code
        return protect(_code_block(opening["lang"], code))

    body = _replace_blocks(body, _HIGHLIGHT_OPEN, _HIGHLIGHT_CLOSE, highlight)

    def post_url(match: re.Match[str]) -> str:
        url = context.resolve_post_url(match["name"])
        if url is None:
            context.warnings.append(f"{{% post_url {match['name']} %}}: no such post; left as text")
            return match[0]
        return url

    body = _POST_URL.sub(post_url, body)
    body = _LINK.sub(lambda m: "/" + m["path"].lstrip("/"), body)

    def output(_: re.Match[str], inside: str, whole: str) -> str:
        value = _output(_expression(inside), context)
        if value is None:
            context.warnings.append(f"Liquid output {whole!r} left as text")
            return whole
        return value

    body = _replace_blocks(body, _OUTPUT_OPEN, _OUTPUT_CLOSE, output)
    unknown = sorted(
        {start["name"] for start, _ in _blocks(body, _TAG_OPEN, _TAG_CLOSE)}
        - {"post_url"}  # reported above
    )
    unknown = [name for name in unknown if not name.startswith("end")]
    if unknown:
        context.warnings.append(
            "Liquid tags left as text: " + ", ".join(f"{{% {name} %}}" for name in unknown)
        )
    for index, text in enumerate(protected):
        body = body.replace(_PLACEHOLDER.format(index), text)
    return body
