"""Concurrency: N editors save the same post from the same version at the same moment.
Exactly one save wins per version, every other gets 409 with its text kept, no text is lost."""

from __future__ import annotations

import html
import re
import threading

from flask import Flask
from sqlalchemy import select

from blog.auth.accounts import create_user
from blog.database import writing
from blog.extensions import db
from blog.models import Post, Role
from tests.conftest import PASSWORD
from tests.helpers_http import HttpBrowser

EDITORS = 8
VERSIONS = 5


def test_one_save_wins_per_version_and_the_rest_get_409(app: Flask, live_server: str) -> None:
    with app.app_context(), writing():
        for number in range(EDITORS):
            create_user(f"editor{number}", PASSWORD, Role.EDITOR)
    browsers = [HttpBrowser(live_server) for _ in range(EDITORS)]
    for number, browser in enumerate(browsers):
        browser.sign_in(f"editor{number}", PASSWORD)
    created = browsers[0].request(
        "/admin/posts/new", {"title": "Contested", "body": "v0", "format": "markdown",
                             "status": "draft", "version": ""},
    )  # fmt: skip
    post_url = created.location
    post_id = int(re.search(r"/admin/posts/(\d+)/edit", post_url)[1])  # type: ignore[index]

    for version in range(1, VERSIONS + 1):
        barrier = threading.Barrier(EDITORS)
        answers: dict[int, tuple[int, str]] = {}

        def save(
            number: int,
            browser: HttpBrowser,
            version: int = version,
            barrier: threading.Barrier = barrier,
            answers: dict[int, tuple[int, str]] = answers,
        ) -> None:
            text = f"editor {number} writes over version {version}"
            fields = {"title": "Contested", "slug": "contested", "body": text, "format": "markdown",
                      "status": "draft", "version": str(version)}  # fmt: skip
            barrier.wait()
            answer = browser.request(f"/admin/posts/{post_id}/edit", fields)
            answers[number] = (answer.status, html.unescape(answer.text))

        threads = [threading.Thread(target=save, args=(n, b)) for n, b in enumerate(browsers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        winners = [number for number, (status, _) in answers.items() if status == 303]
        losers = [number for number, (status, _) in answers.items() if status == 409]
        assert len(winners) == 1 and len(losers) == EDITORS - 1, answers
        winning_text = f"editor {winners[0]} writes over version {version}"
        for number in losers:
            page = answers[number][1]
            assert f"editor {number} writes over version {version}" in page  # their own text, kept
            assert winning_text in page  # and the version that won, shown
        with app.app_context():
            post = db.session.execute(select(Post).where(Post.id == post_id)).scalar_one()
            assert post.version == version + 1 and post.source == winning_text
