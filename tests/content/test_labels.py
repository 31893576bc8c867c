"""Every status, history note and audit action the interface shows has words, in Korean too."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask_babel import force_locale

from blog.content.labels import (
    ACTION_LABELS,
    NOTE_LABELS,
    STATUS_LABELS,
    action_label,
    audit_details,
    note_label,
    status_label,
)
from blog.models import PostStatus

BLOG = Path(__file__).parents[2] / "blog"


def test_every_audited_action_has_a_label() -> None:
    source = "\n".join(path.read_text() for path in BLOG.rglob("*.py"))
    # What audit.record() is given, and the actions publish.py picks for status changes.
    windows = [source[m.start() : m.start() + 200] for m in re.finditer(r"audit\.record\(", source)]
    windows += re.findall(r"return \"[a-z_]+\.[a-z_]+\"[^\n]*", source)
    action = re.compile(r'"((?:post|trash|media|user|settings)\.[a-z_]+)"')
    literal = {found for window in windows for found in action.findall(window)}
    assert {"post.publish", "post.submit", "user.create", "post.delete"} <= literal
    kinds = {f"{kind}.{verb}" for kind in ("category", "tag")
             for verb in ("create", "rename", "slug", "merge", "delete")}  # fmt: skip
    assert literal | kinds <= set(ACTION_LABELS)


def test_every_status_has_one_name(app: Flask) -> None:
    assert set(STATUS_LABELS) == {status.value for status in PostStatus}
    with app.test_request_context(), force_locale("ko"):
        names = {status_label(status.value) for status in PostStatus}
        assert names == {"초안", "검토 대기", "발행됨", "예약됨", "링크 공개"}


def test_stored_notes_are_told_in_korean(app: Flask) -> None:
    with app.test_request_context(), force_locale("ko"):
        assert note_label("created") == "작성"
        assert note_label("created,submitted") == "작성 · 검토 요청"
        assert note_label("restored:3") == "3번 판 복원"
        assert note_label("restored revision 1") == "1번 판 복원"  # stored before codes
        assert note_label("a note someone typed") == "a note someone typed"
        for code in NOTE_LABELS:
            assert note_label(code) != code
        assert action_label("post.send_back") == "글을 작성자에게 돌려보냄"


def test_audit_details_read_as_words(app: Flask) -> None:
    with app.test_request_context(), force_locale("ko"):
        assert audit_details("user.role", {"old": "author", "new": "editor"}) == [
            ("이전", "글쓴이"), ("이후", "편집자")
        ]  # fmt: skip
        author = audit_details(
            "post.author", {"post_id": 3, "old": 2, "new": 5, "old_name": "김", "new_name": "박"}
        )
        assert author == [("이전", "김"), ("이후", "박")]
        assert audit_details("post.publish", {"post_id": 1, "status": "published"}) == [
            ("상태", "발행됨")
        ]  # fmt: skip
        assert audit_details("category.slug", {"locked": True}) == [("직접 정함", "예")]
