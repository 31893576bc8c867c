"""dist/blog.pyz: built as `make pyz` builds it, run by a plain Python in an empty folder.

The .pyz runs with a clean environment (PATH and a home of its own, where shiv unpacks it)
from a temporary folder, by a Python that has none of the blog's packages: nothing of the
checkout or its .venv can be found. Then the blog moves: its data directory and the .pyz
are copied to another folder and serve the same posts to the same signed-in browser.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import database_env, on_postgresql
from tests.helpers_http import HttpBrowser, free_port
from tests.test_cli import _get_when_up

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TITLE = "한·미 동맹 지지 대통령실 초당적 의지 공개!"


def plain_python() -> str:
    """Debian's own python3 when it is 3.11+ (it has no Flask), else the one under .venv."""
    for candidate in ("/usr/bin/python3", getattr(sys, "_base_executable", sys.executable)):
        check = "import sys; print(sys.version_info >= (3, 11))"
        version = subprocess.run([candidate, "-c", check], capture_output=True, text=True)
        if version.stdout.strip() == "True":
            return candidate
    pytest.fail("no Python 3.11+ outside the .venv")


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per run, for this machine's Python version only (quicker than make pyz's
    four; the merging of several versions is the same code)."""
    work = tmp_path_factory.mktemp("pyz-build")
    version = subprocess.run([plain_python(), "-c", "import sys; print(*sys.version_info[:2], "
                              "sep='.')"], capture_output=True, text=True, check=True)  # fmt: skip
    built = subprocess.run(
        [sys.executable, ROOT / "deploy" / "build_pyz.py", "--output", work / "blog.pyz",
         "--work", work / "build", "--pythons", version.stdout.strip()],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    return work / "blog.pyz"


def clean_env(home: Path, port: int) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "PORT": str(port)}


def run_pyz(
    pyz: Path, folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [plain_python(), pyz.name, *args], cwd=folder,
        env={**clean_env(folder.parent / "home", 0), **(env or {})},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def serving_pyz() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for server in started:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)


def serve(started: list[subprocess.Popen[str]], folder: Path, port: int) -> tuple[str, float]:
    """Start `python3 blog.pyz serve` in `folder`; its output up to "Blog running", and the
    seconds from starting it to the home page's 200."""
    began = time.monotonic()
    server = subprocess.Popen(
        [plain_python(), "blog.pyz", "serve"], cwd=folder,
        env=clean_env(folder.parent / "home", port),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    started.append(server)
    output = ""
    assert server.stdout is not None
    while "Blog running" not in output:
        line = server.stdout.readline()
        assert line, f"blog.pyz serve stopped: {output}"
        output += line
    home = _get_when_up(f"http://127.0.0.1:{port}/")
    assert SAMPLE_TITLE in home
    return output, time.monotonic() - began


def test_the_pyz_sets_up_serves_and_moves_with_its_data(
    pyz: Path, tmp_path: Path, serving_pyz: list[subprocess.Popen[str]]
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(pyz, first / "blog.pyz")
    port = free_port()
    output, seconds = serve(serving_pyz, first, port)
    print(f"blog.pyz: {pyz.stat().st_size / 1e6:.1f} MB; first start (unpacking) {seconds:.1f} s")
    password = re.search(r"Created admin account 'admin' with password: (\S+)", output)
    assert password, output
    assert (first / "blog-data" / "blog.sqlite3").exists()
    # The key that signs sessions is in the database (blog/secret_key.py), no file of its own.
    assert not (first / "blog-data" / "secret_key").exists()
    base = f"http://127.0.0.1:{port}"
    reader = HttpBrowser(base)
    post = re.search(r'href="(/posts/[^"]+)"', reader.request("/").text)
    assert post, "the home page links to the sample post"
    article = reader.request(post[1])
    assert article.status == 200 and SAMPLE_TITLE in article.text
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', article.text)
    assert stylesheet and reader.request(stylesheet[1]).status == 200
    assert reader.request("/healthz").status == 200
    writer = HttpBrowser(base)
    writer.sign_in("admin", password[1])
    assert writer.request("/admin/").status == 200
    (jar,) = [h.cookiejar for h in writer.opener.handlers
              if isinstance(h, urllib.request.HTTPCookieProcessor)]  # fmt: skip
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    serving_pyz[0].send_signal(signal.SIGTERM)
    assert serving_pyz[0].wait(timeout=20) == 0

    # The blog moves: the .pyz and its data directory, nothing else.
    second = tmp_path / "second"
    second.mkdir()
    shutil.copy(first / "blog.pyz", second / "blog.pyz")
    shutil.copytree(first / "blog-data", second / "blog-data")
    first_port, port = port, free_port()
    output, seconds = serve(serving_pyz, second, port)
    print(f"blog.pyz: start to first 200, already unpacked: {seconds:.2f} s")
    assert "Created admin account" not in output
    moved = HttpBrowser(f"http://127.0.0.1:{port}")
    # The same page, but for the port in its absolute links (no BLOG_BASE_URL here).
    same_page = article.text.replace(f":{first_port}/", f":{port}/")
    assert moved.request(post[1]).text == same_page
    assert moved.request("/admin/").status == 302  # to the sign-in page
    same_browser = HttpBrowser(f"http://127.0.0.1:{port}")  # an empty jar: this cookie alone
    signed_in = same_browser.request("/admin/", headers={"Cookie": cookie})
    assert signed_in.status == 200, "the same session cookie signs in on the moved blog"


def test_every_blog_command_runs_through_the_pyz(pyz: Path, tmp_path: Path) -> None:
    folder = tmp_path / "blog"
    folder.mkdir()
    shutil.copy(pyz, folder / "blog.pyz")
    data = folder / "elsewhere"
    # On the PostgreSQL run, through psycopg's binary wheel inside the .pyz.
    database = database_env(data)
    init = run_pyz(pyz, folder, "init", "--data", str(data), env=database)
    assert init.returncode == 0, init.stderr
    assert "Created admin account 'admin'" in init.stdout
    assert (data / "blog.sqlite3").exists() != on_postgresql()
    assert not (folder / "blog-data").exists()
    user = run_pyz(pyz, folder, "--data", str(data), "create-user", "김기자", "--role", "editor",
                   env=database)  # fmt: skip
    assert user.returncode == 0 and "Created editor '김기자'" in user.stdout, user.stderr
    site = tmp_path / "site" / "_posts"
    site.mkdir(parents=True)
    (site / "2024-05-01-첫-글.md").write_text("---\ntitle: 첫 글\n---\n본문입니다.\n")
    imported = run_pyz(pyz, folder, "import-jekyll", str(site.parent), "--data", str(data),
                       env=database)  # fmt: skip
    assert imported.returncode == 0 and "1 imported" in imported.stdout, imported.stderr
    helped = run_pyz(pyz, folder, "--help")
    assert helped.returncode == 0
    for command in ("init", "serve", "import-jekyll", "create-user", "reset-password"):
        assert command in helped.stdout


def test_the_pyz_carries_templates_static_files_translations_and_migrations(pyz: Path) -> None:
    names = set(zipfile.ZipFile(pyz).namelist())
    for name in ("templates/base.html", "static/favicon.png", "sample/_config.yml",
                 "translations/ko/LC_MESSAGES/messages.mo", "migrations/env.py"):  # fmt: skip
        assert f"site-packages/blog/{name}" in names, name
