"""`make bench`: the blog's public pages against a bare waitress app, in one run on one machine.

    .venv/bin/python benchmarks/bench.py [--posts 10000] [--duration 10]

1. Writes a Jekyll archive of --posts posts (benchmarks/archive.py) and imports it with
   `blog import-jekyll` into a fresh BLOG_INSTANCE_PATH: import speed, database size.
2. Starts `blog serve` as production does (its default thread count) and the reference
   (benchmarks/reference_app.py: waitress, the same threads, a fixed page the size of the
   home page): start-up time, from process start until the port answers HTTP.
3. Drives each page with wrk (-t2 -c16 --latency) for --duration seconds, right after the
   reference for as long, so each ratio compares two measurements taken moments apart on a
   shared, noisy machine. The server's RSS is read from /proc after the last page.
4. With nginx installed (or --mirror; --no-mirror skips it): starts another `blog serve` with
   BLOG_STATIC_MIRROR behind Debian's nginx running the shipped deploy/nginx/blog.conf, warms
   each anonymous page through nginx (the app writes the mirror's files), and drives each
   through nginx right after nginx serving a plain file of the same size (the reference).
5. Prints a table and writes benchmarks/results/<date>-<posts>.json (-2, -3 ... when taken).

`--reuse-import DIR` keeps the imported archive in DIR and copies it into later runs of the
same size instead of importing again (12 minutes at 100,000 posts).

The code measured is that of the checkout this file is in (it goes first on PYTHONPATH), so
a copy made with `git archive` measures a commit while others edit the working tree.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from archive import write_archive
from nginx_mirror import (
    nginx_binary,
    plain_file_server,
    site_config,
    start_nginx,
    stop_process,
)

from blog.static_mirror import page_file

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
EDITOR = "bench-editor"
EDITOR_PASSWORD = "Correct-Horse-Battery-Staple-77"
CONNECTIONS = 16
WRK_THREADS = 2
# Targets from issue 10: anonymous pages at 0.8x the reference, a signed-in reader at 0.15x.
ANONYMOUS_TARGET = 0.8
SIGNED_IN_TARGET = 0.15
# The static mirror behind nginx: 0.5x nginx serving a plain file.
MIRROR_TARGET = 0.5


class BenchError(RuntimeError):
    """Something the benchmark needs did not work; the message says what."""


@dataclass
class Server:
    """A server process started by the benchmark, with where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    startup_seconds: float = 0.0

    def rss_kb(self) -> dict[str, int]:
        """VmRSS and VmHWM (the peak) of the process, in kB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return {
            key: int(value.split()[0])
            for key, value in re.findall(r"^(VmRSS|VmHWM):\s+(.+)$", status, re.MULTILINE)
        }

    def stop(self) -> None:
        stop_process(self.process)


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_status: int = 0  # wrk's "Non-2xx or 3xx responses"
    socket_errors: dict[str, int] = field(default_factory=dict)


@dataclass
class PageResult:
    page: str
    url: str
    status: int | None = None
    bytes: int | None = None
    target: float = ANONYMOUS_TARGET
    note: str = ""
    blog: WrkResult | None = None
    reference: WrkResult | None = None

    @property
    def ratio(self) -> float | None:
        if self.blog is None or self.reference is None or not self.reference.rps:
            return None
        return self.blog.rps / self.reference.rps


# -- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def blog_command(*args: str, env: dict[str, str], log: Path) -> float:
    """Run `blog ARGS...`; its output goes to `log`. Returns the seconds it took."""
    started = time.monotonic()
    with log.open("ab") as out:
        done = subprocess.run(
            [str(BIN / "blog"), *args], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise BenchError(f"`blog {' '.join(args)}` failed ({done.returncode}):\n{tail}")
    return time.monotonic() - started


def start_server(
    name: str, command: list[str], port: int, env: dict[str, str], logs: Path
) -> Server:
    """Start a server; its start-up time runs until it answers an HTTP request."""
    log = logs / f"{name}.log"
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    server = Server(name, process, port, log)
    deadline = started + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{name} exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            request(port, "/robots.txt", timeout=2)
        except OSError:
            time.sleep(0.01)
            continue
        server.startup_seconds = time.monotonic() - started
        return server
    server.stop()
    raise BenchError(f"{name} did not answer on port {port} within 60 s")


# -- HTTP --------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def request(
    port: int,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 30,
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def resolve(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[str, Answer]:
    """Follow redirects (a `?page=N` link may move to a keyset URL) to the page measured."""
    for _ in range(5):
        answer = request(port, path, headers=headers)
        if answer.status not in (301, 302, 303, 307, 308):
            return path, answer
        location = urlsplit(answer.headers["Location"])
        path = location.path + (f"?{location.query}" if location.query else "")
    raise BenchError(f"too many redirects from {path}")


def cookies_of(answer: Answer) -> dict[str, str]:
    found = {}
    for header in answer.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def sign_in(port: int, username: str, password: str) -> str:
    """Sign in through /login as a browser does; the Cookie header of the signed-in session."""
    form = request(port, "/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', form.body)
    if form.status != 200 or token is None:
        raise BenchError(f"GET /login answered {form.status} without a CSRF token")
    jar = cookies_of(form)
    fields = {"login": username, "password": password, "csrf_token": token[1].decode()}
    answer = request(
        port,
        "/login",
        "POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        },
        body=urlencode(fields).encode(),
    )
    if answer.status != 303:
        raise BenchError(f"signing in as {username} answered {answer.status}, not 303")
    jar.update(cookies_of(answer))
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v)


def last_list_page(port: int) -> int:
    """The highest ?page=N that answers 200: doubling, then bisecting."""
    low, high = 1, 2
    while resolve(port, f"/?page={high}")[1].status == 200:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if resolve(port, f"/?page={middle}")[1].status == 200:
            low = middle
        else:
            high = middle
    return low


def first_link(body: bytes, prefix: str) -> str | None:
    match = re.search(rb'href="(' + re.escape(prefix.encode()) + rb'[^"?#]+)"', body)
    return match[1].decode() if match else None


def url_path(path: str) -> str:
    """`path` percent-encoded as wrk needs it (Korean slugs)."""
    return quote(path, safe="/?=&%")


# -- wrk ---------------------------------------------------------------------------------------

SOCKET_ERRORS = ("connect", "read", "write", "timeout")
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Requests per second, p50/p99 and errors from wrk --latency's report."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if not (rps and p50 and p99 and total):
        raise BenchError(f"cannot read wrk's report:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        rps=float(rps[1]),
        p50_ms=_milliseconds(p50[1]),
        p99_ms=_milliseconds(p99[1]),
        requests=int(total[1]),
        bad_status=int(bad[1]) if bad else 0,
        socket_errors=dict(zip(SOCKET_ERRORS, map(int, errors.groups()), strict=True))
        if errors
        else {},
    )


def wrk(port: int, path: str, seconds: int, headers: dict[str, str] | None = None) -> WrkResult:
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{url_path(path)}")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# -- the run -----------------------------------------------------------------------------------


def blog_threads() -> int:
    """`blog serve`'s default thread count, as its --help states it."""
    done = subprocess.run(
        [str(BIN / "blog"), "serve", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_env(Path(tempfile.gettempdir())),
    )
    match = re.search(r"--threads\D+\[default:\s*(\d+)\]", done.stdout)
    return int(match[1]) if match else 8


def clean_env(instance: Path) -> dict[str, str]:
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(instance)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for name in ("DATABASE_URL", "HOST", "PORT", "BLOG_BASE_URL", "TRUSTED_HOSTS", "SECRET_KEY"):
        env.pop(name, None)
    return env


def checkout_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "blog", "templates", "static", "wsgi.py")
    return {
        "commit": git("rev-parse", "HEAD") or None,
        "uncommitted_app_files": len(changed.splitlines()) if changed else 0,
    }


def import_archive(options: argparse.Namespace, work: Path, env: dict[str, str]) -> dict[str, Any]:
    site = work / "site"
    print(f"Writing a Jekyll archive of {options.posts} posts ...", flush=True)
    started = time.monotonic()
    stats = write_archive(site, options.posts)
    written = time.monotonic() - started
    log = work / "import.log"
    blog_command("init", "--no-sample", env=env, log=log)
    print(f"Importing it with `blog import-jekyll` (log: {log}) ...", flush=True)
    seconds = blog_command("import-jekyll", str(site), "--assets", str(site), env=env, log=log)
    summary = log.read_text(errors="replace").strip().splitlines()[-1]
    database = Path(env["BLOG_INSTANCE_PATH"]) / "blog.sqlite3"
    size = sum(p.stat().st_size for p in database.parent.glob("blog.sqlite3*"))
    print(
        f"  {summary}\n  {seconds:.1f} s, {options.posts / seconds:.0f} posts/s, "
        f"database {size / 1e6:.1f} MB",
        flush=True,
    )
    return {
        "archive": {**asdict(stats), "write_seconds": round(written, 2)},
        "import": {
            "seconds": round(seconds, 2),
            "posts_per_second": round(options.posts / seconds, 1),
            "summary": summary,
        },
        "database": {"bytes": size, "bytes_per_10000_posts": round(size * 10000 / options.posts)},
    }


def schema_revision(database: Path) -> str:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else ""


def reused_import(
    options: argparse.Namespace, instance: Path, env: dict[str, str], work: Path
) -> dict[str, Any]:
    """--reuse-import DIR: the archive of this size imported by an earlier run, copied into
    this run's instance (and brought to the current schema by `blog init`); the first run
    imports it and keeps a copy. Saves minutes at 100,000 posts when only serving changed;
    the import speed reported is the earlier run's."""
    kept = Path(options.reuse_import) / f"{options.posts}-posts"
    stats_file = kept / "import.json"
    if not stats_file.exists():
        stats = import_archive(options, work, env)
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(instance, kept / "instance")
        stats_file.write_text(json.dumps(stats, indent=2))
        return stats
    print(f"Reusing the archive imported into {kept} ...", flush=True)
    shutil.copytree(kept / "instance", instance)
    database = instance / "blog.sqlite3"
    before = schema_revision(database)
    blog_command("init", "--no-sample", env=env, log=work / "import.log")
    if schema_revision(database) != before:
        # The upgrade may have rendered every post again (new columns): keep its result,
        # so the next run does not wait for it too.
        print(f"  the schema was upgraded ({before} -> {schema_revision(database)}): "
              "keeping the upgraded copy", flush=True)  # fmt: skip
        shutil.rmtree(kept / "instance")
        shutil.copytree(instance, kept / "instance")
    stats = json.loads(stats_file.read_text())
    stats["import"]["reused_from"] = str(kept)
    return dict(stats)


def measure_search(env: dict[str, str]) -> dict[str, Any]:
    """p50/p95 of searches in the app (not through the page cache) and the index's size."""
    print("Measuring search (search_latency.py) ...", flush=True)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("search_latency.py"))],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"search_latency.py failed: {done.stderr[-2000:]}")
    found: dict[str, Any] = json.loads(done.stdout)
    for name, row in found.items():
        if isinstance(row, dict):
            print(f"  {name:18} p50 {row['p50_ms']:7.2f} ms  p95 {row['p95_ms']:7.2f} ms "
                  f"(target p95 < 50 ms)", flush=True)  # fmt: skip
    print(f"  search index {found['index_bytes'] / 1e6:.1f} MB", flush=True)
    return found


def plan_pages(port: int, cookie: str) -> list[tuple[PageResult, dict[str, str]]]:
    """The pages to measure, each resolved and checked once: (row, request headers)."""
    home_path, home = resolve(port, "/")
    page50_path, page50 = resolve(port, "/?page=50")
    last = last_list_page(port)
    last_path, _ = resolve(port, f"/?page={last}")
    # The same last page as readers reach it: the "More posts" link of the page before.
    before_last = request(port, f"/?page={max(last - 1, 1)}").body
    cursor = re.search(rb'class="more-posts" href="([^"]+)"', before_last)
    cursor_path = cursor[1].decode().replace("&amp;", "&") if cursor else None
    article = first_link(page50.body, "/posts/") or first_link(home.body, "/posts/")
    if article is None:
        raise BenchError("no /posts/ link on the home page or list page 50")
    article_body = request(port, url_path(article)).body
    category = first_link(page50.body, "/category/") or first_link(article_body, "/category/")
    tag = first_link(page50.body, "/tag/") or first_link(article_body, "/tag/")
    rows: list[tuple[PageResult, dict[str, str]]] = [
        (PageResult("home", home_path), {}),
        (PageResult("list page 50", page50_path), {}),
        (PageResult(f"last list page ({last})", last_path), {}),
        (
            PageResult(
                "last list page (cursor)",
                cursor_path or "",
                note="" if cursor_path else "no More posts link on the page before the last",
            ),
            {},
        ),
        (PageResult("article", article), {}),
    ]
    for name, path in (("category", category), ("tag", tag)):
        row = PageResult(name, path or "")
        if path is None:
            row.note = f"no /{name}/ link found"
        rows.append((row, {}))
    etag = home.headers.get("ETag")
    revalidation = PageResult("304 revalidation (home)", home_path)
    if etag:
        rows.append((revalidation, {"If-None-Match": etag}))
    else:
        revalidation.note = "no ETag"
        rows.append((revalidation, {}))
    signed_in = PageResult("signed-in editor (home)", home_path, target=SIGNED_IN_TARGET)
    rows.append((signed_in, {"Cookie": cookie}))
    for row, headers in rows:
        if row.note:
            continue
        answer = request(port, url_path(row.url), headers=headers)
        row.status, row.bytes = answer.status, len(answer.body)
        expected = 304 if "If-None-Match" in headers else 200
        if answer.status != expected:
            row.note = f"answered {answer.status}, not {expected}"
    # /login sends a signed-in visitor on to the dashboard: the cookie works.
    if not signed_in.note and request(port, "/login", headers={"Cookie": cookie}).status != 302:
        signed_in.note = "the cookie does not sign in (GET /login did not redirect)"
    return rows


def measure(
    rows: list[tuple[PageResult, dict[str, str]]], blog: Server, reference: Server, seconds: float
) -> None:
    """Reference, page, reference, page ...: each ratio from two runs moments apart."""
    warm = min(seconds, 2)
    wrk(reference.port, "/", warm)
    wrk(blog.port, rows[0][0].url, warm)
    for row, headers in rows:
        if row.note:
            print(f"  {row.page}: skipped, {row.note}", flush=True)
            continue
        row.reference = wrk(reference.port, "/", seconds)
        row.blog = wrk(blog.port, row.url, seconds, headers)
        print(
            f"  {row.page}: {row.blog.rps:.0f} req/s, reference {row.reference.rps:.0f}", flush=True
        )


def measure_mirror(
    planned: list[tuple[PageResult, dict[str, str]]],
    env: dict[str, str],
    work: Path,
    seconds: float,
) -> list[PageResult]:
    """The anonymous pages through nginx with the static mirror, each against nginx serving
    a plain file of the page's size, moments before."""
    mirror, plain = work / "mirror", work / "plain"
    plain.mkdir()
    app_port, nginx_port, reference_port = free_port(), free_port(), free_port()
    mirror_env = {**env, "BLOG_STATIC_MIRROR": str(mirror),
                  "BLOG_BASE_URL": f"http://127.0.0.1:{nginx_port}"}  # fmt: skip
    command = [str(BIN / "blog"), "serve", "--port", str(app_port)]
    blog = start_server("blog-mirror", command, app_port, mirror_env, work)
    nginx = None
    rows: list[PageResult] = []
    try:
        servers = site_config(nginx_port, app_port, mirror, work / "nginx" / "access.log")
        nginx = start_nginx(
            work / "nginx", servers + plain_file_server(reference_port, plain), nginx_port
        )
        for row, headers in planned:
            if headers or row.note:
                continue  # the 304 and the signed-in reader are the app's, measured above
            for _ in range(2):  # the first through nginx is a miss: the app writes the file
                answer = request(nginx_port, url_path(row.url))
            in_mirror = mirror_file_exists(mirror, row.url)
            served = "mirror" if in_mirror else "nginx to app"
            result = PageResult(f"{served}: {row.page}", row.url, target=MIRROR_TARGET)
            result.status, result.bytes = answer.status, len(answer.body)
            if answer.status != 200:
                result.note = f"answered {answer.status} through nginx"
            (plain / f"{len(answer.body)}.html").write_bytes(b"x" * len(answer.body))
            rows.append(result)
        print(f"Measuring {len(rows)} pages through nginx and the static mirror ...", flush=True)
        wrk(reference_port, f"/{rows[0].bytes}.html", min(seconds, 2))
        for row in rows:
            if row.note:
                print(f"  {row.page}: skipped, {row.note}", flush=True)
                continue
            row.reference = wrk(reference_port, f"/{row.bytes}.html", seconds)
            row.blog = wrk(nginx_port, row.url, seconds)
            print(
                f"  {row.page}: {row.blog.rps:.0f} req/s, plain file {row.reference.rps:.0f}",
                flush=True,
            )
    finally:
        if nginx is not None:
            nginx.stop()
        blog.stop()
    return rows


def mirror_file_exists(mirror: Path, url: str) -> bool:
    """Whether the mirror holds the page at `url` (a list at a place too), as the app names
    the file (blog/static_mirror.py: page_file) for nginx to find."""
    parts = urlsplit(url)
    # WSGI's PATH_INFO: the decoded path's UTF-8 bytes as latin-1; the query as sent.
    path = unquote(parts.path).encode().decode("latin-1")
    file = page_file({"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": parts.query})
    return file is not None and (mirror / "current" / file).exists()


def fill_page_cache(port: int, pages: int) -> dict[str, Any]:
    """Read `pages` distinct pages (list pages and their articles), enough to fill the page
    cache to its default limit, so the RSS read afterwards is that of a full cache."""
    read, list_page = 0, 1
    started = time.monotonic()
    while read < pages:
        listing = request(port, f"/?page={list_page}")
        if listing.status != 200:
            break
        read += 1
        for link in dict.fromkeys(re.findall(rb'href="(/posts/[^"]+)"', listing.body)):
            request(port, link.decode())
            read += 1
        list_page += 1
    return {"pages_read": read, "seconds": round(time.monotonic() - started, 1)}


def report(result: dict[str, Any], rows: list[PageResult], mirror_rows: list[PageResult]) -> str:
    lines = [
        f"{'page':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ref req/s':>10} "
        f"{'ratio':>6} {'target':>7}"
    ]
    lines += _rows(rows)
    if mirror_rows:
        lines += ["", "static mirror behind nginx (reference: nginx serving a plain file of the "
                  "same size)"]  # fmt: skip
        lines += _rows(mirror_rows)
    servers = result["servers"]
    lines += [
        "",
        f"posts {result['posts']}: import {result['import']['posts_per_second']} posts/s"
        + (" (an earlier run's, reused), " if "reused_from" in result["import"] else ", ")
        + f"database {result['database']['bytes_per_10000_posts'] / 1e6:.1f} MB per 10,000 posts",
        f"blog serve: {servers['threads']} threads, "
        f"start-up {servers['blog']['startup_seconds']:.2f} s, "
        f"RSS {servers['blog']['rss_kb'].get('VmRSS', 0) / 1024:.0f} MB "
        f"(peak {servers['blog']['rss_kb'].get('VmHWM', 0) / 1024:.0f} MB); after reading "
        f"{servers['blog']['cache_fill']['pages_read']} distinct pages (cache full): "
        f"RSS {servers['blog']['rss_kb_cache_full'].get('VmRSS', 0) / 1024:.0f} MB",
        f"reference: {servers['reference']['bytes']} bytes, start-up "
        f"{servers['reference']['startup_seconds']:.2f} s, "
        f"RSS {servers['reference']['rss_kb'].get('VmRSS', 0) / 1024:.0f} MB",
        f"wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{result['duration_seconds']}s --latency; "
        f"ratio = page req/s / reference req/s measured just before it",
    ]
    return "\n".join(lines)


def _rows(rows: list[PageResult]) -> list[str]:
    lines = []
    for row in rows:
        if row.blog is None or row.reference is None:
            lines.append(f"{row.page:<28} {row.note}")
            continue
        flag = "" if (row.ratio or 0) >= row.target else "  miss"
        errors = row.blog.bad_status + sum(row.blog.socket_errors.values())
        lines.append(
            f"{row.page:<28} {row.blog.rps:>8.0f} {row.blog.p50_ms:>8.1f} {row.blog.p99_ms:>8.1f} "
            f"{row.reference.rps:>10.0f} {row.ratio:>6.3f} {row.target:>7.2f}{flag}"
            + (f"  ({errors} errors)" if errors else "")
        )
    return lines


def run(options: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="blog-bench-") as scratch:
        work = Path(scratch)
        instance = work / "instance"
        env = clean_env(instance)
        result: dict[str, Any] = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "posts": options.posts,
            "duration_seconds": options.duration,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "checkout": checkout_state(),
        }
        if options.reuse_import:
            result.update(reused_import(options, Path(env["BLOG_INSTANCE_PATH"]), env, work))
        else:
            result.update(import_archive(options, work, env))
        result["search"] = measure_search(env)
        blog_command(
            "create-user",
            EDITOR,
            "--role",
            "editor",
            "--password",
            EDITOR_PASSWORD,
            env=env,
            log=work / "import.log",
        )
        threads = blog_threads()
        blog_port, reference_port = free_port(), free_port()
        blog = start_server(
            "blog", [str(BIN / "blog"), "serve", "--port", str(blog_port)], blog_port, env, work
        )
        reference = None
        try:
            home_size = len(resolve(blog_port, "/")[1].body)
            reference = start_server(
                "reference",
                [
                    sys.executable,
                    str(Path(__file__).with_name("reference_app.py")),
                    "--port",
                    str(reference_port),
                    "--bytes",
                    str(home_size),
                    "--threads",
                    str(threads),
                ],
                reference_port,
                env,
                work,
            )
            cookie = sign_in(blog_port, EDITOR, EDITOR_PASSWORD)
            planned = plan_pages(blog_port, cookie)
            print(
                f"Measuring {len(planned)} pages, {options.duration:g} s each, "
                "interleaved with the reference ...",
                flush=True,
            )
            measure(planned, blog, reference, options.duration)
            rows = [row for row, _ in planned]
            rss_measured = blog.rss_kb()
            # 24 MiB of pages with their gzip and brotli forms is about 1,200 pages.
            print("Reading 3,000 distinct pages to fill the page cache ...", flush=True)
            cache_fill = fill_page_cache(blog_port, 3000)
            # The same signed-in editor on a server that keeps no page for them: what the
            # app itself costs per request (issue 10's "cache bypassed" target).
            bypass_port = free_port()
            bypass = start_server(
                "blog-signed-in-uncached",
                [str(BIN / "blog"), "serve", "--port", str(bypass_port)],
                bypass_port,
                {**env, "PAGE_CACHE_SIGNED_IN_SECONDS": "0"},
                work,
            )
            try:
                uncached = PageResult("signed-in editor, cache bypassed (home)", "/",
                                      target=SIGNED_IN_TARGET)  # fmt: skip
                measure([(uncached, {"Cookie": cookie})], bypass, reference, options.duration)
                rows.append(uncached)
            finally:
                bypass.stop()
            result["servers"] = {
                "threads": threads,
                "blog": {
                    "startup_seconds": round(blog.startup_seconds, 3),
                    "rss_kb": rss_measured,
                    "cache_fill": cache_fill,
                    "rss_kb_cache_full": blog.rss_kb(),
                },
                "reference": {
                    "startup_seconds": round(reference.startup_seconds, 3),
                    "rss_kb": reference.rss_kb(),
                    "bytes": home_size,
                },
            }
        finally:
            blog.stop()
            if reference is not None:
                reference.stop()
        mirror_rows = measure_mirror(planned, env, work, options.duration) if options.mirror else []
        result["pages"] = [
            {**asdict(row), "ratio": None if row.ratio is None else round(row.ratio, 4)}
            for row in rows
        ]
        if mirror_rows:
            result["static_mirror"] = [
                {**asdict(row), "ratio": None if row.ratio is None else round(row.ratio, 4)}
                for row in mirror_rows
            ]
        print()
        print(report(result, rows, mirror_rows))
        return result


def _free_name(stem: Path) -> Path:
    """stem.json, or stem-2.json, stem-3.json ...: an earlier run's results stay."""
    candidate, number = stem.with_suffix(".json"), 1
    while candidate.exists():
        number += 1
        candidate = stem.with_name(f"{stem.name}-{number}.json")
    return candidate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10000, help="posts in the archive (10000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON file (default benchmarks/results/DATE-POSTS.json)",
    )
    parser.add_argument(
        "--reuse-import",
        metavar="DIR",
        help="keep the imported archive in DIR and reuse it in later runs of the same size",
    )
    parser.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure the static mirror behind nginx (default: when nginx is installed)",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: install it with: sudo apt-get install wrk")
    if options.mirror is None:
        options.mirror = nginx_binary() is not None
    elif options.mirror and nginx_binary() is None:
        sys.exit("nginx is missing: install it with: sudo apt-get install nginx")
    try:
        result = run(options)
    except BenchError as error:
        sys.exit(f"benchmark failed: {error}")
    output = options.output or _free_name(RESULTS / f"{datetime.now().date()}-{options.posts}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nResults: {output}")


if __name__ == "__main__":
    main()
