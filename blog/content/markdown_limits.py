"""Python-Markdown's link parsing, bounded so that author input costs linear time.

For every `[` in a paragraph Python-Markdown scans forward for the matching `]`, and for
every `](` for the matching `)`: a paragraph of 10,000 `[` took 23 s, and the live preview
renders on every keystroke. Here each scan looks at most a few thousand characters ahead
(no real link text or address is longer), and a paragraph with more than a few hundred
`[` is not searched for links at all: its brackets stay text. Everything else renders as
Python-Markdown renders it.
"""

from __future__ import annotations

from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.inlinepatterns import LinkInlineProcessor

MAX_LINK_TEXT = 4_000  # characters between [ and ]
MAX_LINK_TARGET = 2_000  # characters between ( and )
MAX_BRACKETS = 400  # [ in one paragraph; more and none of them starts a link

# The processors that start at `[` (links, images, references, short references).
BRACKET_PROCESSORS = ("reference", "link", "image_link", "image_reference",
                      "short_reference", "short_image_ref")  # fmt: skip


class _BracketCount:
    """`data.count("[")`, remembered for the string last asked about: the processors are
    tried at every `[` of the same paragraph, which would make counting quadratic."""

    def __init__(self) -> None:
        self.data: str | None = None
        self.count = 0

    def too_many(self, data: str) -> bool:
        if data is not self.data:
            self.data, self.count = data, data.count("[")
        return self.count > MAX_BRACKETS


def _bounded(processor_class: type[LinkInlineProcessor], counter: _BracketCount) -> type:
    class Bounded(processor_class):  # type: ignore[valid-type,misc]
        def handleMatch(self, m: Any, data: str) -> Any:  # noqa: N802 - Markdown's name
            if counter.too_many(data):
                return None, None, None
            return super().handleMatch(m, data)

        def getText(self, data: str, index: int) -> Any:  # noqa: N802
            return super().getText(data[: index + MAX_LINK_TEXT], index)

        def getLink(self, data: str, index: int) -> Any:  # noqa: N802
            return super().getLink(data[: index + MAX_LINK_TARGET], index)

    Bounded.__name__ = f"Bounded{processor_class.__name__}"
    return Bounded


class BoundedLinksExtension(Extension):
    """Replace the bracket processors with bounded subclasses, at the same priorities."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Markdown's name
        counter = _BracketCount()
        registry = md.inlinePatterns
        for name in BRACKET_PROCESSORS:
            index = registry.get_index_for_name(name)
            priority = registry._priority[index].priority
            original = registry[name]
            bounded = _bounded(type(original), counter)(original.pattern, md)
            registry.register(bounded, name, priority)
