"""Is a served page inert? Parse it as a browser would (html5lib) and list what could act."""

from __future__ import annotations

import json
import re
from xml.etree.ElementTree import Element

import html5lib

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "data",
                  "background", "ping", "cite", "longdesc", "lowsrc", "dynsrc", "codebase",
                  "manifest", "icon", "profile", "usemap", "archive", "classid"}  # fmt: skip
DANGEROUS_SCHEME = re.compile(r"^(?:javascript|vbscript|livescript|data):", re.I)
DANGEROUS_CSS = re.compile(
    r"url\s*\(|expression|-moz-binding|behavior|@import|javascript:|position\s*:|\\", re.I
)
FORBIDDEN_IN_POST = {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
                     "form", "input", "button", "textarea", "select", "base", "meta", "link",
                     "svg", "math", "template", "portal", "noscript", "isindex"}  # fmt: skip
# What our own pages carry: scripts from /static, hx-disable around the author's content,
# the post list's "more posts" link and the header's search box.
OWN_SCRIPT = re.compile(r"^/static/(?:vendor|js)/[\w.-]+\.js$")
OWN_HTMX_CLASSES = {"more-posts", "site-search-box"}
# The WHATWG URL parser strips leading/trailing C0 controls and spaces, and drops tabs and
# newlines anywhere, before it reads the scheme.
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _scheme_view(url: str) -> str:
    return re.sub(r"[\t\n\r]", "", url.strip(_C0_AND_SPACE))


def _urls(attribute: str, value: str) -> list[str]:
    if attribute == "srcset":
        return [candidate.strip().split(" ", 1)[0] for candidate in value.split(",")]
    return [value]


def _own_json_ld(element: Element) -> bool:
    """The article's JSON-LD: a data block browsers never run, with no src, holding one
    JSON object and no `<` (the page escapes it, so nothing in it can end the element)."""
    if element.get("type") != "application/ld+json" or element.get("src") is not None:
        return False
    text = element.text or ""
    try:
        return "<" not in text and isinstance(json.loads(text), dict)
    except ValueError:
        return False


def problems(page_html: str, content_class: str = "post-body") -> list[str]:
    """Everything in `page_html` that could run script, load foreign content or steer htmx."""
    document = html5lib.parse(page_html, namespaceHTMLElements=True)
    found: list[str] = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        name = _local(element.tag)
        own_script = (
            OWN_SCRIPT.match(element.get("src", "")) and not (element.text or "").strip()
        ) or _own_json_ld(element)
        if name == "script" and not own_script:
            found.append(f"script element {element.attrib} {element.text!r}")
        classes = set(element.get("class", "").split())
        for attribute, value in element.attrib.items():
            attr = _local(attribute)
            if attr.startswith("on"):
                found.append(f"<{name} {attr}=...>")
            own_htmx = (attr == "hx-disable" and content_class in classes) or bool(
                classes & OWN_HTMX_CLASSES
            )
            if attr.startswith(("hx-", "data-hx-")) and not own_htmx:
                found.append(f"<{name} {attr}={value!r}>")
            if attr in URL_ATTRIBUTES and any(
                DANGEROUS_SCHEME.match(_scheme_view(url)) for url in _urls(attr, value)
            ):
                found.append(f"<{name} {attr}={value!r}>")
            if attr == "style" and DANGEROUS_CSS.search(value):
                found.append(f"<{name} style={value!r}>")
            if attr == "content" and name == "meta" and "url" in value.lower():
                found.append(f"<meta content={value!r}>")
    for container in _containers(document, content_class):
        for element in container.iter():
            if isinstance(element.tag, str) and _local(element.tag) in FORBIDDEN_IN_POST:
                found.append(f"<{_local(element.tag)}> inside the post")
    return found


def _containers(document: Element, content_class: str) -> list[Element]:
    return [
        element
        for element in document.iter()
        if isinstance(element.tag, str) and content_class in element.get("class", "").split()
    ]
