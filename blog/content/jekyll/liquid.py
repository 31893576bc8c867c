"""The Liquid a Jekyll post body contains: resolved where the meaning is known, else kept.

Jekyll renders Liquid before Markdown. We resolve what has a fixed meaning on the new blog
({% raw %}, {% highlight %}, {% post_url %}, site.url/baseurl, relative_url, page.title) and
leave every other tag visible in the text, reporting it so the author can fix it by hand.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

_RAW = re.compile(r"{%-?\s*raw\s*-?%}(.*?){%-?\s*endraw\s*-?%}", re.S)
_HIGHLIGHT = re.compile(
    r"{%-?\s*highlight\s+(?P<lang>[\w+#.-]+)(?P<opts>[^%]*?)-?%}\n?(?P<code>.*?){%-?\s*endhighlight\s*-?%}",
    re.S,
)
_POST_URL = re.compile(r"{%-?\s*post_url\s+(?P<name>[^\s%]+)\s*-?%}")
_LINK = re.compile(r"{%-?\s*link\s+(?P<path>[^\s%]+)\s*-?%}")
_OUTPUT = re.compile(r"{{-?\s*(?P<expr>.*?)\s*-?}}", re.S)
_TAG = re.compile(r"{%-?\s*(?P<name>\w+).*?-?%}", re.S)
_STRING = re.compile(r"""^(?:'(?P<single>[^']*)'|"(?P<double>[^"]*)")$""")
_PLACEHOLDER = "\x00liquid-raw-{}\x00"


@dataclass
class LiquidContext:
    """What the post's Liquid may refer to."""

    page_title: str = ""
    site_title: str = ""
    resolve_post_url: Callable[[str], str | None] = lambda name: None
    warnings: list[str] = field(default_factory=list)


def _code_block(language: str, code: str) -> str:
    # An HTML block is left alone by Markdown and stays correct in HTML posts too.
    escaped = html.escape(code.rstrip("\n"), quote=False)
    return f'\n<pre><code class="language-{html.escape(language)}">{escaped}</code></pre>\n'


def _output(expr: str, context: LiquidContext) -> str | None:
    """Value of a `{{ ... }}` expression we understand, or None to leave it as written."""
    value, *filters = [part.strip() for part in expr.split("|")]
    variables = {"site.url": "", "site.baseurl": "", "page.title": context.page_title,
                 "site.title": context.site_title}  # fmt: skip
    string = _STRING.match(value)
    if string:
        result = string["single"] if string["single"] is not None else string["double"]
    elif value in variables:
        result = variables[value]
    else:
        return None
    for name in filters:
        if name in {"relative_url", "absolute_url"}:
            # The new blog serves from its root: the old baseurl no longer applies.
            result = result if result.startswith(("/", "#", "http")) or not result else "/" + result
        elif name == "escape":
            result = html.escape(result)
        else:
            return None
    return result


def render_liquid(body: str, context: LiquidContext) -> str:
    """Resolve known Liquid in `body`; record unknown tags in context.warnings."""
    protected: list[str] = []

    def protect(text: str) -> str:
        protected.append(text)
        return _PLACEHOLDER.format(len(protected) - 1)

    body = _RAW.sub(lambda m: protect(m[1]), body)
    body = _HIGHLIGHT.sub(lambda m: protect(_code_block(m["lang"], m["code"])), body)

    def post_url(match: re.Match[str]) -> str:
        url = context.resolve_post_url(match["name"])
        if url is None:
            context.warnings.append(f"{{% post_url {match['name']} %}}: no such post; left as text")
            return match[0]
        return url

    body = _POST_URL.sub(post_url, body)
    body = _LINK.sub(lambda m: "/" + m["path"].lstrip("/"), body)

    def output(match: re.Match[str]) -> str:
        value = _output(match["expr"], context)
        if value is None:
            context.warnings.append(f"Liquid output {match[0]!r} left as text")
            return match[0]
        return value

    body = _OUTPUT.sub(output, body)
    unknown = sorted(
        {m["name"] for m in _TAG.finditer(body)} - {"post_url"}  # reported above
    )
    unknown = [name for name in unknown if not name.startswith("end")]
    if unknown:
        context.warnings.append(
            "Liquid tags left as text: " + ", ".join(f"{{% {name} %}}" for name in unknown)
        )
    for index, text in enumerate(protected):
        body = body.replace(_PLACEHOLDER.format(index), text)
    return body
