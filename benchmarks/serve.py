"""Anonymous page speed of the blog against a bare waitress app, measured in the same run.

    .venv/bin/python benchmarks/serve.py [--seconds 5] [--clients 4] [--posts 200]

Starts three servers one after the other on loopback, each in its own process with the same
waitress settings: a bare WSGI app that returns a fixed page of the same size (the
reference), then the blog serving its home page and an article. The same client loop (keep-
alive HTTP/1.1, a fixed number of threads, a bounded time) measures each, and the report gives
requests per second and the ratio to the reference. Shared machines are noisy, so only the
ratios mean anything; run it a few times.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]

BARE_APP = textwrap.dedent(
    """
    import sys
    from waitress import serve
    body = b"x" * int(sys.argv[2])
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, ident="bare")
    """
)

BLOG_APP = textwrap.dedent(
    """
    import sys
    from waitress import serve
    from blog import create_app
    serve(create_app(), host="127.0.0.1", port=int(sys.argv[1]), threads=4, ident="blog")
    """
)

SEED_POSTS = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from blog import create_app
    from blog.content.posts import render_post, save_post, set_categories
    from blog.database import writing
    from blog.extensions import db
    from blog.models import Post
    app = create_app()
    source = "본문 **굵게** 문단입니다.\\n\\n" * 20
    with app.app_context():
        rendered = render_post(source, "markdown")
        start = datetime(2020, 1, 1, tzinfo=UTC)
        with writing():
            for n in range(int(sys.argv[1])):
                post = Post(title=f"벤치마크 글 {n}", slug=f"bench-{n}", status="published",
                            source=source, source_format="markdown",
                            published_at=start + timedelta(hours=n))
                db.session.add(post)
                set_categories(post, ["News"])
                save_post(post, None, rendered)
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def fetch_once(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}")
    connection.close()
    return body


def measure(port: int, path: str, seconds: float, clients: int) -> float:
    """Requests per second over `seconds`, `clients` keep-alive connections in parallel."""
    counts = [0] * clients
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop_at:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")
            counts[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def run_server(script: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--posts", type=int, default=200)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "BLOG_INSTANCE_PATH": instance, "PYTHONPATH": str(ROOT)}
        env.pop("DATABASE_URL", None)
        subprocess.run([sys.executable, "-m", "blog.cli", "init"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        subprocess.run([sys.executable, "-c", SEED_POSTS, str(options.posts)], env=env, cwd=ROOT,
                       check=True)  # fmt: skip

        blog_port = free_port()
        blog = run_server(BLOG_APP, [str(blog_port)], env)
        try:
            wait_until_up(blog_port)
            article = "/posts/" + quote("한미-동맹-지지-대통령실-초당적-의지-공개")
            sizes = {path: len(fetch_once(blog_port, path)) for path in ("/", article)}
            results = {}
            for path in ("/", article):
                measure(blog_port, path, 1.0, options.clients)  # warm up
                results[path] = measure(blog_port, path, options.seconds, options.clients)
        finally:
            blog.terminate()
            blog.wait()

        reference = {}
        for path, size in sizes.items():
            bare_port = free_port()
            bare = run_server(BARE_APP, [str(bare_port), str(size)], env)
            try:
                wait_until_up(bare_port)
                measure(bare_port, "/", 1.0, options.clients)
                reference[path] = measure(bare_port, "/", options.seconds, options.clients)
            finally:
                bare.terminate()
                bare.wait()

    print(f"{'page':<12} {'bytes':>7} {'blog req/s':>11} {'bare req/s':>11} {'ratio':>6}")
    for path, label in (("/", "home"), (article, "article")):
        ratio = results[path] / reference[path]
        print(
            f"{label:<12} {sizes[path]:>7} {results[path]:>11.0f} "
            f"{reference[path]:>11.0f} {ratio:>6.2f}"
        )
    print("target for later issues: ratio >= 0.80 (render-on-save plus a page cache)")


if __name__ == "__main__":
    main()
