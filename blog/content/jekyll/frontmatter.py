"""YAML front matter as Jekyll reads it, plus recovery for what authors commonly get wrong."""

from __future__ import annotations

import re
from typing import Any

import yaml


class FrontMatterError(ValueError):
    """The front matter could not be read even after recovery."""


# An alias (*name) repeats what an anchor (&name) holds without repeating its text: seven
# levels of ten aliases are ten million values from 400 bytes, gigabytes once converted
# and stored. What aliases may add to a document is bounded; beyond it the file is refused.
MAX_ALIAS_VALUES = 10_000
MAX_ALIAS_TEXT = 1_000_000  # characters
_SATURATED = 10**12


class BoundedSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses a document whose aliases expand it beyond the bounds."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_alias_expansion(node)
        return self.construct_document(node)


def load_yaml(text: str) -> Any:
    """yaml.safe_load, with alias expansion bounded (FrontMatterError beyond it)."""
    return yaml.load(text, Loader=BoundedSafeLoader)  # noqa: S506 (SafeLoader subclass)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_alias_expansion(root: yaml.Node) -> None:
    """Refuse, before converting anything, a document that aliases make much larger.

    Each node's expanded size (values, characters) is computed once, bottom up, and reused
    wherever an alias repeats the node: the check costs the document's own size, never its
    expansion. Merge keys (<<: *base) are aliases too and are counted the same way.
    """
    sizes: dict[int, tuple[int, int]] = {}
    in_progress: set[int] = set()
    own_values = own_text = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            in_progress.discard(key)
            values, text = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            for child in _children(node):
                child_values, child_text = sizes[id(child)]
                values, text = values + child_values, text + child_text
            sizes[key] = (min(values, _SATURATED), min(text, _SATURATED))
            continue
        if key in sizes:
            continue
        if key in in_progress:  # a node inside itself: &a [*a]
            raise FrontMatterError("a YAML alias refers to the value it is inside; refused")
        in_progress.add(key)
        own_values += 1
        own_text += len(node.value) if isinstance(node, yaml.ScalarNode) else 0
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    values, text = sizes[id(root)]
    if values - own_values > MAX_ALIAS_VALUES or text - own_text > MAX_ALIAS_TEXT:
        raise FrontMatterError(
            f"YAML aliases would expand this to {values:,} values ({text:,} characters); "
            f"at most {MAX_ALIAS_VALUES:,} values and {MAX_ALIAS_TEXT:,} characters may come "
            "from aliases, so it is refused (an alias bomb?)"
        )


class _JekyllLoader(BoundedSafeLoader):
    """SafeLoader that leaves timestamps as strings.

    PyYAML turns `2022-12-22` into a date but `2024-05-20 10:20:00 +0900` into a string;
    keeping every date a string lets one parser (dates.py) treat all shapes alike.
    """


_JekyllLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_DELIMITER = re.compile(r"^---[ \t]*$")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
# A top-level `key: value` line whose value is a plain scalar (not a block indicator).
# The value ends on a character that is not a space or tab, so the spaces after it are not
# tried again from every space of a run inside it ((?P<value>.*?)[ \t]*$ was quadratic), and
# the separator is never cut short (?![ \t]) to let the value start with its spaces.
_TOP_LEVEL_PAIR = re.compile(
    r"^(?P<key>[^\s#:\-][^:]*?):(?P<sep>[ \t]+)(?![ \t])(?P<value>(?:.*[^ \t\n])?)[ \t]*$"
)
# `- item` (indented or not) and `key:` alone on a line, for _lenient_pairs.
_LIST_ITEM = re.compile(r"^\s*-\s+(?!\s)(.*)$")
_KEY_ONLY = re.compile(r"^(?P<key>[^\s#:][^:]*):\s*$")


def normalise_text(raw: str) -> str:
    """Drop a UTF-8 BOM and turn CRLF / CR line ends (often mixed) into LF."""
    return raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str) -> tuple[str | None, str, list[str]]:
    """Split normalised text into (front matter YAML or None, body, warnings)."""
    warnings: list[str] = []
    lines = text.split("\n")
    start = 0
    # Jekyll wants `---` on the very first line; blank lines before it are a common slip
    # that Jekyll turns into a page without front matter. Recover it, but say so.
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or not _DELIMITER.match(lines[start]):
        return None, text, warnings
    for end in range(start + 1, len(lines)):
        if _CLOSING.match(lines[end]):
            if start:
                warnings.append(f"{start} blank line(s) before the front matter's '---' ignored")
            return "\n".join(lines[start + 1 : end]), "\n".join(lines[end + 1 :]), warnings
    return None, text, ["front matter opened with '---' but never closed; read as body"]


def _load(yaml_text: str) -> Any:
    return yaml.load(yaml_text, Loader=_JekyllLoader)  # noqa: S506 (SafeLoader subclass)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _repair(yaml_text: str) -> tuple[str, list[str]]:
    """Quote top-level scalar values that strict YAML rejects; return (text, keys fixed)."""
    fixed_keys: list[str] = []
    repaired: list[str] = []
    for line in yaml_text.split("\n"):
        # Tabs are not allowed as indentation in YAML; Jekyll authors use them anyway.
        stripped = line.rstrip(" \t")
        indent = len(stripped) - len(stripped.lstrip("\t"))
        stripped = "  " * indent + stripped[indent:]
        match = _TOP_LEVEL_PAIR.match(stripped)
        if match and match["value"] and match["value"][0] not in "|>\"'":
            value = match["value"]
            try:
                parsed = _load(f"k: {value}")
                ok = isinstance(parsed, dict) and parsed.get("k") is not None
            except yaml.YAMLError:
                ok = False
            if not ok:
                stripped = f"{match['key']}: {_quote(value)}"
                fixed_keys.append(match["key"])
        repaired.append(stripped)
    return "\n".join(repaired), fixed_keys


def _lenient_pairs(yaml_text: str) -> dict[str, Any]:
    """Last resort: read `key: value` lines and `- item` lists as plain strings."""
    data: dict[str, Any] = {}
    current: str | None = None
    for line in yaml_text.split("\n"):
        item = _LIST_ITEM.match(line)
        if item and current is not None:
            value = item[1].strip().strip("'\"")
            if not isinstance(data.get(current), list):
                data[current] = []
            data[current].append(value)
            continue
        match = _TOP_LEVEL_PAIR.match(line.rstrip()) or _KEY_ONLY.match(line)
        if match:
            current = match["key"].strip()
            value = (match.groupdict().get("value") or "").strip()
            data[current] = value.strip("'\"") if value else None
    return data


def parse_front_matter(yaml_text: str | None) -> tuple[dict[str, Any], list[str]]:
    """Parse front matter into a dict; recover common mistakes with a warning."""
    if yaml_text is None or not yaml_text.strip():
        return {}, []
    warnings: list[str] = []
    try:
        data = _load(yaml_text)
    except yaml.YAMLError as error:
        reason = _describe(error)
        repaired, fixed_keys = _repair(yaml_text)
        try:
            data = _load(repaired)
            what = f"quoted the value of {', '.join(fixed_keys)}" if fixed_keys else "fixed tabs"
            warnings.append(f"front matter is not valid YAML ({reason}); recovered: {what}")
        except yaml.YAMLError:
            data = _lenient_pairs(yaml_text)
            if not data:
                raise FrontMatterError(f"front matter is not valid YAML ({reason})") from error
            warnings.append(
                f"front matter is not valid YAML ({reason}); read line by line as plain text"
            )
    if data is None:
        return {}, warnings
    if not isinstance(data, dict):
        raise FrontMatterError(f"front matter is a {type(data).__name__}, not a mapping of keys")
    return {str(key): value for key, value in data.items()}, warnings


def _describe(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).split("\n")[0]
    return f"line {mark.line + 2}: {problem}" if mark is not None else str(problem)


# `status: pending` beside `published: false`: a post waiting for review. The export writes
# it (Jekyll ignores the key), and WordPress archives converted by jekyll-import say the
# same of their posts pending review.
REVIEW_STATUS = "pending"


def waits_for_review(front: dict[str, Any]) -> bool:
    """Whether the front matter's `status` says the post waits for review."""
    status = front.get("status")
    return isinstance(status, str) and status.strip().lower() == REVIEW_STATUS
