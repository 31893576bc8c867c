"""deploy/: Debian's nginx with the shipped configuration (deploy/nginx/blog.conf, its TLS
parts left out, and once whole with a certificate of ours) in front of real `blog serve`
processes, two of them on one database behind one upstream; X-Forwarded-* believed only with
TRUST_PROXY_HEADERS; Caddy with the shipped Caddyfile; the systemd unit checked by
systemd-analyze, and its MemoryDenyWriteExecute=yes tried with the kernel's equivalent.

The processes are started once for the module. Each test uses its own posts and account
names, so they do not depend on each other's order. The database is named in one place,
database_url().
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import database_url, debian_program, token_from
from tests.helpers_http import free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from nginx_mirror import (  # noqa: E402
    SHIPPED,
    Nginx,
    site_config,
    start_nginx,
    stop_process,
)

UNIT = ROOT / "deploy" / "systemd" / "blog.service"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
BLOG = Path(sys.executable).parent / "blog"
ADMIN_PASSWORD = "배포 시험용 비밀번호 2026"
BASE_URL = "http://blog.test"
ONE_YEAR = "public, max-age=31536000, immutable"
# prctl(2): the kernel's refusal of writable and executable memory (Linux 6.3+), what
# systemd's MemoryDenyWriteExecute=yes asks for; inherited across fork and exec.
PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1
# Runs the command in its arguments with it set.
UNDER_MDWE = f"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) != 0 or libc.prctl(
    {PR_GET_MDWE}, 0, 0, 0, 0) != {PR_MDWE_REFUSE_EXEC_GAIN}:
    sys.exit("PR_SET_MDWE refused")
os.execv(sys.argv[1], sys.argv[1:])
"""


# Exits 0 only if a writable and executable mapping is refused.
WX_MAPPING = """
import mmap, sys
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except PermissionError:
    sys.exit(0)
sys.exit(1)
"""


def mdwe_available() -> bool:
    """Whether this kernel refuses writable and executable memory under PR_SET_MDWE."""
    probe = subprocess.run(
        [sys.executable, "-c", UNDER_MDWE, sys.executable, "-c", WX_MAPPING], capture_output=True
    )
    return probe.returncode == 0


# A browser ---------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    cookies: list[str]  # each Set-Cookie as sent
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def location(self) -> str:
        """The path a redirect names (absolute or not)."""
        place = urlsplit(self.headers.get("location", ""))
        return place.path + (f"?{place.query}" if place.query else "")


@dataclass
class Browser:
    """One reader's browser talking to one port: its cookies and CSRF token; redirects are
    not followed. `source` is the loopback address it connects from (127.0.0.2, ...), as a
    reader on another machine would. `at(port)` is the same browser talking to another port."""

    port: int
    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""
    tls: ssl.SSLContext | None = None  # HTTPS, trusting this context's certificates
    # The host the reader typed when it is not 127.0.0.1:port: over HTTPS, Flask-WTF checks
    # that a form's Referer is of the host the app sees, and nginx passes $host (no port).
    host: str | None = None

    def at(self, port: int) -> Browser:
        return Browser(port, self.source, self.cookies, self.token, self.tls, self.host)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if self.host:
            sent["Host"] = self.host
            if method == "POST":
                sent["Referer"] = f"https://{self.host}{path}"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = (
            http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=30, source_address=(self.source, 0),
                context=self.tls,
            )
            if self.tls
            else http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=30, source_address=(self.source, 0)
            )
        )  # fmt: skip
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            reply = Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.headers.get_all("Set-Cookie") or [],
                response.read(),
            )
        finally:
            connection.close()
        for line in reply.cookies:
            for name, morsel in SimpleCookie(line).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return reply

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> Reply:
        body = urlencode({"csrf_token": self.token, **fields}).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, body, form)

    def upload(self, path: str, fields: dict[str, str], name: str, data: bytes) -> Reply:
        boundary = uuid.uuid4().hex
        parts = io.BytesIO()
        for key, value in {"csrf_token": self.token, **fields}.items():
            parts.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                        f"{value}\r\n".encode())  # fmt: skip
        parts.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    f'filename="{name}"\r\nContent-Type: image/png\r\n\r\n'.encode())  # fmt: skip
        parts.write(data + f"\r\n--{boundary}--\r\n".encode())
        content_type = f"multipart/form-data; boundary={boundary}"
        return self.request("POST", path, parts.getvalue(), {"Content-Type": content_type})

    def try_sign_in(
        self, login: str, password: str, headers: dict[str, str] | None = None
    ) -> Reply:
        self.token = token_from(self.get("/login").text)
        return self.post("/login", {"login": login, "password": password}, headers)

    def sign_in(self, login: str = "admin", password: str = ADMIN_PASSWORD) -> None:
        answer = self.try_sign_in(login, password)
        assert answer.status == 303, answer.text[:300]
        self.token = token_from(self.get("/account").text)


# The processes -------------------------------------------------------------------------------


@dataclass
class Site:
    """`blog serve` processes on one data directory and the nginx in front of them."""

    data: Path
    front: int  # nginx's port
    backends: list[int]
    access_log: Path

    def browser(self, source: str = "127.0.0.1") -> Browser:
        return Browser(self.front, source)

    def upstreams(self, request_line: str) -> list[str]:
        """upstream=... of each logged request with this request line ("-": nginx alone)."""
        return re.findall(rf'"{re.escape(request_line)} HTTP/1\.1" \d+ \d+ upstream=(\S+)',
                          self.access_log.read_text())  # fmt: skip

    def served(self, browser: Browser, path: str) -> tuple[Reply, str]:
        """GET `path` through nginx: the answer and who gave it ("-": nginx alone). nginx
        logs a request just after answering it, so its line is awaited."""
        line = f"GET {path}"
        before = len(self.upstreams(line))
        answer = browser.get(path)
        deadline = time.monotonic() + 10
        while len(logged := self.upstreams(line)) <= before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(logged) > before, f"nginx logged no {line}"
        return answer, logged[-1]


def blog_environment(data: Path, trust_proxy: bool) -> dict[str, str]:
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(data), "DATABASE_URL": database_url(data),
           "BLOG_LANGUAGE": "en", "BLOG_TITLE": "배포 시험 블로그", "BLOG_ADMIN_USER": "admin",
           "BLOG_ADMIN_PASSWORD": ADMIN_PASSWORD, "BLOG_BASE_URL": BASE_URL,
           "BLOG_STATIC_MIRROR": str(data.parent / "mirror"), "POSTS_PER_PAGE": "20"}  # fmt: skip
    env.pop("TRUST_PROXY_HEADERS", None)
    if trust_proxy:
        env["TRUST_PROXY_HEADERS"] = "1"
    return env


def start_blog(
    stack: ExitStack, data: Path, port: int, trust_proxy: bool, mdwe: bool = False
) -> None:
    """`blog serve` on `port` until the stack closes; under PR_SET_MDWE when asked."""
    command = [str(BLOG), "serve", "--port", str(port)]
    if mdwe:
        command = [sys.executable, "-c", UNDER_MDWE, *command]
    log = data.parent / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=blog_environment(data, trust_proxy),
                                   stdout=output, stderr=output)  # fmt: skip
    stack.callback(stop_process, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"blog serve exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if Browser(port).get("/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"blog serve did not answer on port {port}")


def start_front(stack: ExitStack, work: Path, backends: list[int]) -> tuple[int, Path]:
    """The shipped nginx configuration without TLS in front of `backends` (round robin)."""
    port, access_log = free_port(), work / "access.log"
    servers = site_config(port, backends, work.parent / "mirror", access_log)
    nginx: Nginx = start_nginx(work, servers, port)
    stack.callback(nginx.stop)
    return port, access_log


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blog made by `blog init`, its admin's password from BLOG_ADMIN_PASSWORD."""
    data = tmp_path_factory.mktemp("deploy") / "data"
    done = subprocess.run([BLOG, "init", "--no-sample"], env=blog_environment(data, False),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return data


@pytest.fixture(scope="module")
def site(data: Path, nginx_available: str) -> Iterator[Site]:
    """Two `blog serve` processes trusting the proxy's headers, behind one nginx. The second
    runs under the kernel's refusal of writable executable memory when there is one, as
    deploy/systemd/blog.service's MemoryDenyWriteExecute=yes makes it."""
    with ExitStack() as stack:
        backends = [free_port(), free_port()]
        start_blog(stack, data, backends[0], trust_proxy=True)
        start_blog(stack, data, backends[1], trust_proxy=True, mdwe=mdwe_available())
        front, access_log = start_front(stack, data.parent / "nginx", backends)
        yield Site(data, front, backends, access_log)


@pytest.fixture(scope="module")
def untrusting(data: Path, nginx_available: str) -> Iterator[Site]:
    """One `blog serve` on the same blog without TRUST_PROXY_HEADERS, behind its own nginx."""
    with ExitStack() as stack:
        backend = free_port()
        start_blog(stack, data, backend, trust_proxy=False)
        front, access_log = start_front(stack, data.parent / "nginx-untrusting", [backend])
        yield Site(data, front, [backend], access_log)


def database_rows(data: Path, query: str, **values: object) -> list[tuple[object, ...]]:
    engine = create_engine(database_url(data))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query), values)]
    finally:
        engine.dispose()


POST_FIELDS = {"format": "markdown", "status": "published", "version": "", "categories": "",
               "tags": "", "excerpt": "", "feature_text": "", "feature_image": ""}  # fmt: skip


def write_post(browser: Browser, title: str, slug: str, body: str) -> str:
    """A new published post through the editor form; its edit page's path."""
    fields = {**POST_FIELDS, "title": title, "slug": slug, "body": body}
    created = browser.post("/admin/posts/new", fields)
    assert created.status == 303, created.text[:500]
    return created.location


def edit_title(browser: Browser, edit_path: str, title: str) -> None:
    form = browser.get(edit_path).text
    version = re.search(r'name="version"[^>]*value="([^"]*)"', form)
    body = re.search(r'<textarea[^>]*name="body"[^>]*>\s*([^<]*)</textarea>', form)
    slug = re.search(r'name="slug"[^>]*value="([^"]*)"', form)
    assert version and body and slug
    fields = {**POST_FIELDS, "title": title, "slug": slug[1], "body": body[1],
              "version": version[1]}  # fmt: skip
    saved = browser.post(edit_path, fields)
    assert saved.status == 303, saved.text[:500]


def article_path(slug: str) -> str:
    return "/posts/" + quote(slug)


# The shipped files, by their own tools --------------------------------------------------------


def test_the_systemd_unit_passes_systemd_analyze() -> None:
    analyze = debian_program("systemd-analyze", "systemd")
    verified = subprocess.run([analyze, "verify", str(UNIT)], capture_output=True, text=True)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr
    security = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", str(UNIT)],
                              capture_output=True, text=True)  # fmt: skip
    exposure = re.search(r"Overall exposure level for blog\.service: ([0-9.]+)", security.stdout)
    assert exposure is not None, security.stdout[-2000:] + security.stderr
    # 0 is a service that can do nothing, 10 one left as it is; below 2 systemd calls "OK".
    assert float(exposure[1]) < 2.0, security.stdout


def test_the_caddyfile_is_valid_caddy_configuration() -> None:
    caddy = debian_program("caddy", "caddy")
    adapted = subprocess.run(
        [caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile", "--validate"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert adapted.returncode == 0, adapted.stderr
    assert '"max_size":16777216' in adapted.stdout  # 16 MiB: the app's MAX_CONTENT_LENGTH


# Through nginx: a reader and a writer -----------------------------------------------------


def test_pages_static_files_and_sign_in_through_nginx(site: Site) -> None:
    writer = site.browser()
    # Sign in through nginx: the form's CSRF token and cookie, then a 303 to the dashboard.
    login = writer.get("/login")
    assert login.status == 200 and "session" in writer.cookies
    writer.token = token_from(login.text)
    signed_in = writer.post("/login", {"login": "admin", "password": ADMIN_PASSWORD})
    assert signed_in.status == 303 and signed_in.location == "/admin/"
    dashboard = writer.get("/admin/")
    assert dashboard.status == 200 and "admin" in dashboard.text
    assert dashboard.headers["cache-control"] == "no-store"
    writer.token = token_from(dashboard.text)
    write_post(writer, "서울 시청 앞 집회", "서울-집회", "시민 **3천 명**이 모였다.")

    reader = site.browser()
    home = reader.get("/")
    assert (
        home.status == 200 and "배포 시험 블로그" in home.text and "서울 시청 앞 집회" in home.text
    )
    article = reader.get(article_path("서울-집회"))
    assert article.status == 200 and "<strong>3천 명</strong>" in article.text
    # A page nginx found in the static mirror, once the app has written it there.
    again, source = site.served(reader, article_path("서울-집회"))
    assert again.body == article.body and source == "-"

    # The stylesheet under its hashed name: a year, immutable; kept by nginx after the first.
    stylesheet = re.search(r'href="(/static/css/blog\.[0-9a-f]{8}\.css)"', home.text)
    assert stylesheet is not None
    first, first_source = site.served(reader, stylesheet[1])
    second, second_source = site.served(reader, stylesheet[1])
    assert first.status == second.status == 200 and first.body == second.body
    assert first.headers["cache-control"] == second.headers["cache-control"] == ONE_YEAR
    assert first.headers["content-type"].startswith("text/css")
    assert first_source in {f"127.0.0.1:{port}" for port in site.backends}
    assert second_source == "-"
    # The plain name is revalidated each time, and never kept by nginx.
    for _ in range(2):
        plain, source = site.served(reader, "/static/css/blog.css")
        assert plain.status == 200 and plain.headers["cache-control"] == "no-cache"
        assert plain.body == first.body and source != "-"
    # An outdated hash is redirected to the current name, every time by the app.
    for _ in range(2):
        moved, source = site.served(reader, "/static/css/blog.00000000.css")
        assert moved.status == 302 and moved.location == stylesheet[1] and source != "-"


def test_a_request_larger_than_the_app_takes_is_refused_by_nginx(site: Site) -> None:
    writer = site.browser()
    writer.sign_in()
    answer = writer.upload("/admin/media", {"alt": "큰 사진"}, "big.png", b"\0" * (17 << 20))
    assert answer.status == 413


# Two processes on one database behind one nginx ----------------------------------------------


def test_an_edit_through_one_process_is_seen_by_both_at_the_next_request(site: Site) -> None:
    first, second = site.backends
    writer = site.browser()
    writer.sign_in()
    edit_path = write_post(writer, "국회 본회의 속보", "본회의-속보", "첫 보도.")
    path = article_path("본회의-속보")
    reader = site.browser()
    # Every page cache and the mirror hold the first version.
    for port in (first, second):
        assert "국회 본회의 속보" in reader.at(port).get(path).text
        assert "국회 본회의 속보" in reader.at(port).get("/").text
    assert site.served(reader, path)[1] == "-"
    for number, (through, other) in enumerate([(first, second), (second, first)]):
        title = f"국회 본회의 속보 (수정 {number + 1})"
        edit_title(writer.at(through), edit_path, title)
        # The very next request, wherever it goes.
        for port in (other, through):
            assert title in reader.at(port).get(path).text
            assert title in reader.at(port).get("/").text
        for _ in range(2):
            assert title in reader.get(path).text
            assert title in reader.get("/").text


def test_a_scheduled_post_is_published_once_on_both_when_due(site: Site) -> None:
    """Publishing is a condition of the queries (published_at <= now), not a job: at its
    time the post shows on both processes and through nginx, once, and nothing is written."""
    from blog import create_app
    from blog.auth.accounts import find_user
    from blog.content.publish import PostFields, save_fields
    from blog.extensions import db

    first, second = site.backends
    reader = site.browser()
    path = article_path("예약-기사")
    # Both page caches and the mirror hold the home page before the post is scheduled.
    for port in (first, second):
        reader.at(port).get("/")
    reader.get("/")
    # The editor's form takes minutes; the same domain call with a time seconds ahead, from
    # this test's process on the same data directory (as a `blog` CLI command would).
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url(site.data),
         "BLOG_STATIC_MIRROR": str(site.data.parent / "mirror"), "BLOG_BASE_URL": BASE_URL},
        instance_path=str(site.data),
    )  # fmt: skip
    # Far enough ahead for the saves and the checks below on a busy machine.
    due = datetime.now(UTC) + timedelta(seconds=8)
    with app.app_context():
        editor = find_user("admin")
        assert editor is not None
        # An ordinary post first, to compare the listing with.
        save_fields(None, PostFields(title="보통 기사", slug="보통-기사", body="지금 공개.",
                                     status="published"), editor, None)  # fmt: skip
        fields = PostFields(title="예약된 단독 기사", slug="예약-기사", body="정각에 공개.",
                            status="scheduled", published_at=due)  # fmt: skip
        post_id = save_fields(None, fields, editor, None).id
        db.engine.dispose()
    written = database_rows(site.data, "SELECT count(*) FROM revisions WHERE post_id = :id",
                            id=post_id)  # fmt: skip
    for port in (first, second, site.front):
        assert reader.at(port).get(path).status == 404
        assert "예약된 단독 기사" not in reader.at(port).get("/").text
    # Wait for it on each, without any request between: each process finds it due by itself.
    deadline = time.monotonic() + 30
    for port in (first, second, site.front):
        while reader.at(port).get(path).status == 404:
            assert time.monotonic() < deadline, f"the post never appeared on port {port}"
            time.sleep(0.1)
    assert datetime.now(UTC) >= due
    homes = {port: reader.at(port).get("/").text for port in (first, second, site.front)}
    # Both processes agree, and the post is listed as often as any other post is.
    assert homes[first] == homes[second] == homes[site.front]
    listed = homes[first].count(f'href="{path}"')
    assert listed >= 1 and listed == homes[first].count(f'href="{article_path("보통-기사")}"')
    for port in (first, second, site.front):
        article = reader.at(port).get(path)
        assert article.status == 200 and article.text.count("<p>정각에 공개.</p>") == 1
    # Exactly one post, and publishing wrote nothing: no new revision, status unchanged.
    assert database_rows(site.data, "SELECT id, status FROM posts WHERE slug = :slug",
                         slug="예약-기사") == [(post_id, "scheduled")]  # fmt: skip
    assert database_rows(site.data, "SELECT count(*) FROM revisions WHERE post_id = :id",
                         id=post_id) == written  # fmt: skip


def test_failed_sign_ins_through_either_process_add_up_to_one_limit(site: Site) -> None:
    """Sign-in attempts are counted in the database (login_attempts): 10 failures per account
    and address in 15 minutes, wherever they were answered."""
    first, second = site.backends
    guesser = Browser(first)
    for attempt in range(10):
        port = (first, second)[attempt % 2]
        assert guesser.at(port).try_sign_in("없는-기자-c", f"틀린 {attempt}").status == 422
    for port in (first, second, site.front):
        assert guesser.at(port).try_sign_in("없는-기자-c", "또 틀린").status == 429
    rows = database_rows(site.data, "SELECT address FROM login_attempts WHERE account_key = :k",
                         k="name:없는-기자-c")  # fmt: skip
    assert rows == [("127.0.0.1",)] * 10


def test_a_session_works_whichever_process_answers(site: Site) -> None:
    first, second = site.backends
    writer = Browser(first)
    writer.sign_in()  # the session starts on the first process
    for port in (second, first, site.front):
        account = writer.at(port).get("/account")
        # Flask-WTF signs the session's one CSRF secret with the current second, so two
        # pages carry the same first part (the secret) and may differ after it.
        assert account.status == 200
        assert csrf_secret(token_from(account.text)) == csrf_secret(writer.token)
    # A form from one process is accepted by the other (same secret key, same CSRF token).
    edit_path = write_post(
        writer.at(second), "세션 공유 확인", "세션-공유", "두 번째 프로세스에서 씀."
    )
    edit_title(writer.at(first), edit_path, "세션 공유 확인 (첫 번째에서 고침)")
    # Signing out on one ends the session on both.
    assert writer.at(second).post("/logout", {}).status == 303
    for port in (first, second):
        gone = Browser(port, cookies=dict(writer.cookies)).get("/account")
        assert gone.status in (302, 303) and gone.location.startswith("/login")


def csrf_secret(token: str) -> str:
    """The part of a signed CSRF token that names the session's secret (before the timestamp)."""
    return token.split(".", 1)[0]


def png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(output, "PNG")
    return output.getvalue()


def test_media_uploaded_through_one_process_are_served_by_the_other(site: Site) -> None:
    """Media live in the database: no shared files needed. The upload goes through the
    second process, which runs under PR_SET_MDWE where the kernel has it (Pillow checks and
    cleans the image there)."""
    first, second = site.backends
    writer = Browser(second)
    writer.sign_in()
    fields = {"alt": "광화문 광장", "caption": "현장 사진", "next": ""}
    uploaded = writer.upload("/admin/media", fields, "광화문.png", png((200, 30, 60)))
    assert uploaded.status == 303, uploaded.text[:500]
    library = writer.get("/admin/media").text
    found = re.search(r'/media/([0-9a-f]{64})/[^"\s<]+', library)
    assert found is not None
    url, digest = found[0], found[1]
    reader = Browser(first)
    answers = [reader.at(port).get(url) for port in (first, second, site.front)]
    for answer in answers:
        assert answer.status == 200 and answer.headers["content-type"] == "image/png"
        assert answer.headers["cache-control"] == ONE_YEAR
        assert answer.body == answers[0].body
    assert hashlib.sha256(answers[0].body).hexdigest() == digest
    etag = answers[0].headers["etag"]
    for port in (first, second, site.front):
        assert reader.at(port).get(url, {"If-None-Match": etag}).status == 304


# X-Forwarded-*: believed from the proxy only when configured ---------------------------------

FORGED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
          "X-Forwarded-Host": "evil.example"}  # fmt: skip


def session_cookie(reply: Reply) -> str:
    lines = [line for line in reply.cookies if line.startswith("session=")]
    assert len(lines) == 1, reply.cookies
    return lines[0]


def addresses_tried(data: Path, account: str) -> list[str]:
    rows = database_rows(data, "SELECT address FROM login_attempts WHERE account_key = :key "
                         "ORDER BY id", key=f"name:{account}")  # fmt: skip
    return [str(address) for (address,) in rows]


def test_forwarded_headers_are_ignored_without_trust_proxy_headers(
    untrusting: Site, site: Site
) -> None:
    (backend,) = untrusting.backends
    # A client claiming HTTPS and another address, straight to the app: neither believed.
    login = Browser(backend).get("/login", FORGED)
    assert "strict-transport-security" not in login.headers
    assert "secure" not in session_cookie(login).lower()
    guesser = Browser(backend)
    for attempt in range(10):
        forged = {**FORGED, "X-Forwarded-For": f"198.51.100.{attempt}"}
        assert guesser.try_sign_in("없는-기자-u", "틀린", forged).status == 422
    forged = {**FORGED, "X-Forwarded-For": "198.51.100.200"}
    assert guesser.try_sign_in("없는-기자-u", "틀린", forged).status == 429
    assert addresses_tried(untrusting.data, "없는-기자-u") == ["127.0.0.1"] * 10
    # Behind nginx, from another machine: the app sees nginx's address, not the reader's.
    reader = untrusting.browser(source="127.0.0.2")
    assert reader.try_sign_in("없는-기자-u2", "틀린", FORGED).status == 422
    assert addresses_tried(untrusting.data, "없는-기자-u2") == ["127.0.0.1"]
    # The same forged request to a process that trusts its proxy is believed: what keeps a
    # client from doing this there is nginx, which sets these headers itself.
    believed = Browser(site.backends[0]).get("/login", FORGED)
    assert believed.headers["strict-transport-security"].startswith("max-age=")
    assert "; secure" in session_cookie(believed).lower()


def test_forwarded_headers_from_nginx_are_believed_with_trust_proxy_headers(site: Site) -> None:
    # Each reader's own address, as nginx saw it, whatever the reader claimed.
    reader = site.browser(source="127.0.0.2")
    for _ in range(10):
        assert reader.try_sign_in("없는-기자-t", "틀린", FORGED).status == 422
    assert reader.try_sign_in("없는-기자-t", "틀린", FORGED).status == 429
    assert addresses_tried(site.data, "없는-기자-t") == ["127.0.0.2"] * 10
    # Another address has its own count for the same account.
    elsewhere = site.browser(source="127.0.0.3")
    assert elsewhere.try_sign_in("없는-기자-t", "틀린", FORGED).status == 422
    assert addresses_tried(site.data, "없는-기자-t") == ["127.0.0.2"] * 10 + ["127.0.0.3"]
    # The scheme is nginx's (plain HTTP here), not the client's claim of HTTPS.
    login = site.browser(source="127.0.0.2").get("/login", FORGED)
    assert login.status == 200 and "strict-transport-security" not in login.headers
    assert "secure" not in session_cookie(login).lower()


# The shipped configuration with its TLS parts -------------------------------------------------


def with_tls_on_loopback(
    backends: list[int], http_port: int, https_port: int, certificate: Path, key: Path, work: Path
) -> str:
    """deploy/nginx/blog.conf whole, its HTTPS on loopback ports with a certificate of ours."""
    config = SHIPPED.read_text()
    replacements = {
        "server 127.0.0.1:8000;": "\n    ".join(f"server 127.0.0.1:{p};" for p in backends),
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "/etc/letsencrypt/live/blog.example.com/fullchain.pem": str(certificate),
        "/etc/letsencrypt/live/blog.example.com/privkey.pem": str(key),
        "root /var/cache/blog/mirror/current;": f"root {work.parent / 'mirror'}/current;",
        "/var/log/nginx/blog.access.log": str(work / "access.log"),
        "/var/cache/nginx/blog-static": str(work / "static-cache"),
    }
    for old, new in replacements.items():
        if config.count(old) != 1:
            raise ValueError(f"{SHIPPED} no longer has {old!r} exactly once")
        config = config.replace(old, new)
    return config


def test_the_shipped_configuration_with_tls(site: Site, tmp_path: Path) -> None:
    """The HTTPS server as shipped (a certificate of our own for blog.example.com): plain
    HTTP is sent to HTTPS; over HTTPS the app, told so by nginx, marks its cookie Secure and
    sends Strict-Transport-Security, and pages from the mirror carry the same headers."""
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=blog.example.com", "-keyout", str(key),
         "-out", str(certificate), "-addext", "subjectAltName=DNS:blog.example.com,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    http_port, https_port = free_port(), free_port()
    work = site.data.parent / "nginx-tls"
    config = with_tls_on_loopback(site.backends, http_port, https_port, certificate, key, work)
    with ExitStack() as stack:
        nginx = start_nginx(work, config, http_port)
        stack.callback(nginx.stop)
        moved = Browser(http_port).get("/posts/a?page=2")
        assert moved.status == 301
        assert moved.headers["location"] == "https://blog.example.com/posts/a?page=2"
        trusted = ssl.create_default_context(cafile=str(certificate))
        # As a browser at https://blog.example.com/ would ask (port 443 here forwarded).
        secure = Browser(https_port, tls=trusted, host="blog.example.com")
        login = secure.get("/login")
        assert login.status == 200
        assert login.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert "; secure" in session_cookie(login).lower()
        secure.token = token_from(login.text)
        signed_in = secure.post("/login", {"login": "admin", "password": ADMIN_PASSWORD})
        assert signed_in.status == 303 and secure.get("/account").status == 200
        # A page from the app, then the same page from the mirror: the same headers.
        reader = Browser(https_port, tls=trusted, host="blog.example.com")
        slug = "https-기사"
        secure.token = token_from(secure.get("/account").text)
        write_post(secure, "보안 연결 기사", slug, "TLS 본문.")
        by_app = reader.get(article_path(slug))
        tls_log = work / "access.log"
        by_mirror = reader.get(article_path(slug))
        deadline = time.monotonic() + 10
        line = f'"GET {article_path(slug)} HTTP/1.1" 200'
        while tls_log.read_text().count(line) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert tls_log.read_text().splitlines()[-1].endswith("upstream=-")
        assert by_mirror.body == by_app.body
        made_by_server = {"etag", "last-modified", "date", "server", "connection",
                          "content-length", "accept-ranges", "keep-alive"}  # fmt: skip
        assert {k: v for k, v in by_mirror.headers.items() if k not in made_by_server} == {
            k: v for k, v in by_app.headers.items() if k not in made_by_server
        }


# Caddy in front ----------------------------------------------------------------------------


def caddy_on_loopback(backends: list[int], port: int, mirror: Path) -> str:
    """deploy/Caddyfile on a loopback port over plain HTTP (Caddy's automatic HTTPS needs a
    public name), without its admin endpoint, in front of `backends`."""
    config = CADDYFILE.read_text()
    replacements = {
        "blog.example.com {": f"http://127.0.0.1:{port} {{",
        "\t\treverse_proxy 127.0.0.1:8000\n": "\t\treverse_proxy "
        + " ".join(f"127.0.0.1:{backend}" for backend in backends)
        + "\n",
    }
    for old, new in replacements.items():
        if config.count(old) != 1:
            raise ValueError(f"{CADDYFILE} no longer has {old!r} exactly once")
        config = config.replace(old, new)
    if config.count("/var/cache/blog/mirror/current") != 3:
        raise ValueError(f"{CADDYFILE}: the mirror's root is no longer named three times")
    config = config.replace("/var/cache/blog/mirror/current", f"{mirror}/current")
    return "{\n\tadmin off\n}\n\n" + config


def test_caddy_in_front_with_the_shipped_caddyfile(site: Site, tmp_path: Path) -> None:
    caddy = debian_program("caddy", "caddy")
    port = free_port()
    config = tmp_path / "Caddyfile"
    config.write_text(caddy_on_loopback(site.backends, port, site.data.parent / "mirror"))
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
    log = tmp_path / "caddy.log"
    with ExitStack() as stack, log.open("wb") as output:
        process = subprocess.Popen(
            [caddy, "run", "--config", str(config), "--adapter", "caddyfile"],
            env=env, stdout=output, stderr=output,
        )  # fmt: skip
        stack.callback(stop_process, process)
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                Browser(port).get("/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.05)
        writer = Browser(port)
        writer.sign_in()
        write_post(writer, "캐디 뒤의 기사", "캐디-기사", "Caddy 본문.")
        reader = Browser(port)
        first = reader.get(article_path("캐디-기사"))
        second = reader.get(article_path("캐디-기사"))  # from the mirror, a file by now
        assert first.status == second.status == 200 and first.body == second.body
        # The first from the app (waitress names itself "blog"), the second a file.
        assert first.headers["server"] == "blog" and second.headers["server"] == "Caddy"
        home = reader.get("/")
        stylesheet = re.search(r'href="(/static/css/blog\.[0-9a-f]{8}\.css)"', home.text)
        assert stylesheet is not None
        assert reader.get(stylesheet[1]).headers["cache-control"] == ONE_YEAR
        # Caddy replaces a client's X-Forwarded-For: the app sees the reader's own address.
        guesser = Browser(port, source="127.0.0.4")
        assert guesser.try_sign_in("없는-기자-caddy", "틀린", FORGED).status == 422
        assert addresses_tried(site.data, "없는-기자-caddy") == ["127.0.0.4"]
