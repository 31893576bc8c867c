"""`blog init`, `blog import-jekyll` and `blog serve`, as a newcomer runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Post, User
from tests.conftest import MakePost
from tests.helpers_http import free_port


def count_posts(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(Post.id))).scalar_one()


def test_init_creates_admin_and_sample_once(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BLOG_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("BLOG_ADMIN_USER", raising=False)
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "Created admin account 'admin' with password: " in first.output
    assert "Imported the sample post" in first.output
    assert count_posts(app) == 1
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0
    assert "exists; its password is unchanged" in second.output
    assert "Imported the sample" not in second.output
    assert count_posts(app) == 1
    with app.app_context():
        admin = db.session.execute(select(User)).scalar_one()
        assert admin.role == "admin" and admin.password_hash.startswith("scrypt:")


def test_init_takes_admin_name_and_password_from_the_environment(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOG_ADMIN_USER", "editor-in-chief")
    monkeypatch.setenv("BLOG_ADMIN_PASSWORD", "a long chosen password")
    result = runner.invoke(args=["init", "--no-sample"])
    assert "a long chosen password" not in result.output
    assert "'editor-in-chief'" in result.output
    from blog.auth.accounts import check_password, find_user

    with app.app_context():
        user = find_user("editor-in-chief")
        assert user is not None and check_password(user, "a long chosen password")
    assert count_posts(app) == 0


def write_site(root: Path) -> Path:
    (root / "_posts").mkdir(parents=True)
    (root / "_posts" / "2024-01-01-good.md").write_text("---\ntitle: Good\n---\nx", "utf-8")
    (root / "_posts" / "2024-01-02-warn.md").write_text("---\ntitle: [a] b\n---\nx", "utf-8")
    return root


def test_import_prints_progress_and_summary(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    site = write_site(tmp_path / "site")
    result = runner.invoke(args=["import-jekyll", str(site)])
    assert result.exit_code == 0, result.output
    assert "[1/2] imported _posts/2024-01-01-good.md" in result.output
    assert "warning: _posts/2024-01-02-warn.md: front matter is not valid YAML" in result.output
    assert "2 imported, 0 updated, 0 drafts, 0 skipped, 1 warnings, 0 failed" in result.output
    again = runner.invoke(args=["import-jekyll", str(site)])
    assert "0 imported, 2 updated" in again.output and count_posts(app) == 2


def test_import_exits_1_when_a_file_failed_after_importing_the_rest(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    site = write_site(tmp_path / "site")
    (site / "_posts" / "2024-01-03-broken.md").write_bytes(b"\x00\x01binary")
    result = runner.invoke(args=["import-jekyll", str(site)])
    assert result.exit_code == 1
    assert "FAILED: _posts/2024-01-03-broken.md: binary file" in result.output
    assert count_posts(app) == 2


def test_import_dry_run_saves_nothing(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    site = write_site(tmp_path / "site")
    result = runner.invoke(args=["import-jekyll", str(site), "--dry-run"])
    assert result.exit_code == 0 and "Dry run, nothing saved: 2 imported" in result.output
    assert count_posts(app) == 0


def test_blog_command_sets_up_and_serves_the_sample(tmp_path: Path) -> None:
    """What `make run` does, end to end: the console script, waitress, a real socket."""
    blog = Path(sys.executable).parent / "blog"
    port = free_port()
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(tmp_path / "instance"), "PORT": str(port)}
    env.pop("DATABASE_URL", None)
    init = subprocess.run([blog, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "instance" / "blog.sqlite3").exists()
    assert not (tmp_path / "instance" / "secret_key").exists()  # in the database instead
    server = subprocess.Popen([blog, "serve"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert f"http://127.0.0.1:{port}/" in (server.stdout.readline() if server.stdout else "")
        home = _get_when_up(f"http://127.0.0.1:{port}/")
        assert "한·미 동맹 지지 대통령실 초당적 의지 공개!" in home
        old = "/news/2024/07/22/" + quote("한미-동맹-지지-대통령실-초당적-의지-공개") + ".html"
        request = urllib.request.Request(f"http://127.0.0.1:{port}{old}", method="HEAD")
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as moved:
            opener.open(request, timeout=10)
        assert moved.value.code == 301
    finally:
        server.terminate()
        server.wait(timeout=20)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _get_when_up(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_import_of_a_folder_without_posts_says_so(runner: FlaskCliRunner, tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "style.css").write_text("body {}")
    result = runner.invoke(args=["import-jekyll", str(tmp_path)])
    assert result.exit_code == 1
    assert "No Jekyll posts found" in result.output and "style.css" not in result.output


def site_title(app: Flask) -> str:
    from blog.content.settings import site_settings

    with app.app_context():
        return site_settings()["title"]


def test_init_stores_blog_title_and_says_where_the_title_changes(
    app: Flask, runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOG_TITLE", "  부산일보 디지털  ")
    first = runner.invoke(args=["init", "--no-sample"])
    assert first.exit_code == 0, first.output
    assert "Site title: '부산일보 디지털' (from BLOG_TITLE)." in first.output
    assert site_title(app) == "부산일보 디지털"
    monkeypatch.delenv("BLOG_TITLE")  # `blog serve` without it keeps the stored title
    assert site_title(app) == "부산일보 디지털"
    monkeypatch.setenv("BLOG_TITLE", "Another")
    again = runner.invoke(args=["init", "--no-sample"])
    assert "Change it on the Site settings page (/admin/settings)." in again.output
    assert "BLOG_TITLE is not used" in again.output and site_title(app) == "부산일보 디지털"


def test_init_without_blog_title_names_both_ways_to_set_it(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BLOG_TITLE", raising=False)
    result = runner.invoke(args=["init", "--no-sample"])
    assert "Site title: 'Test Blog'. Change it on the Site settings page (/admin/settings)" in (
        result.output
    )
    assert "set BLOG_TITLE before the first `blog init`" in result.output


def test_a_blog_title_with_a_control_character_is_refused_by_name(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOG_TITLE", "Blog\u202e")
    result = runner.invoke(args=["init", "--no-sample"])
    assert result.exit_code != 0 and "BLOG_TITLE: " in result.output


def test_an_empty_blog_title_falls_back_to_blog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blog.config import load_config

    monkeypatch.setenv("BLOG_TITLE", " ")
    assert load_config(tmp_path)["BLOG_TITLE"] == "Blog"


def test_init_recomputes_excerpts_made_from_a_heading_once(
    app: Flask, runner: FlaskCliRunner, make_post: MakePost
) -> None:
    from blog.database import writing

    heading_first = make_post(source="## 부산 해운대 빛축제 개막\n\n축제가 열렸다.")
    written = make_post(source="## 제목\n\n본문.", excerpt="직접 쓴 요약")
    with app.app_context(), writing():
        post = db.session.execute(select(Post).where(Post.slug == heading_first)).scalar_one()
        post.summary = "부산 해운대 빛축제 개막"  # what the old rule stored
    with app.app_context():
        version = db.session.execute(select(Post.version).where(Post.slug == heading_first))
        before = version.scalar_one()
    result = runner.invoke(args=["init", "--no-sample"])
    assert "Excerpts: 1 post(s) without a written excerpt" in result.output, result.output
    with app.app_context():
        rows = dict(db.session.execute(select(Post.slug, Post.summary)).all())
        assert rows == {heading_first: "축제가 열렸다.", written: "직접 쓴 요약"}
        version = db.session.execute(select(Post.version).where(Post.slug == heading_first))
        assert version.scalar_one() == before  # an editor's open form stays current
    assert "Excerpts:" not in runner.invoke(args=["init", "--no-sample"]).output


def test_create_user_takes_the_display_name_bylines_show(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, make_post: MakePost
) -> None:
    args = ["create-user", "park", "--role", "author", "--display-name", " 박지훈 기자 "]
    created = runner.invoke(args=args)
    assert created.exit_code == 0, created.output
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "park")).scalar_one()
        assert user.display_name == "박지훈 기자" and user.name == "박지훈 기자"
        author_id = user.id
    slug = make_post(title="해운대 빛축제", author_id=author_id)
    article = client.get(f"/posts/{slug}").text
    assert "박지훈 기자" in article
    # Without the option the byline falls back to the login name, as before.
    assert runner.invoke(args=["create-user", "lee"]).exit_code == 0
    with app.app_context():
        lee = db.session.execute(select(User).where(User.username == "lee")).scalar_one()
        assert lee.display_name == "" and lee.name == "lee"


@pytest.mark.parametrize("hostile", ["x" * 10_000, "박\x00지훈", "\u202e기자"])
def test_create_user_refuses_a_hostile_display_name(
    app: Flask, runner: FlaskCliRunner, hostile: str
) -> None:
    result = runner.invoke(args=["create-user", "kim", "--display-name", hostile])
    assert result.exit_code == 1 and "--display-name: " in result.output, result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.execute(select(User).where(User.username == "kim")).scalar() is None
