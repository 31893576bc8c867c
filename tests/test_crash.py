"""Crash test: the real server (blog serve, waitress) killed with SIGKILL while 16 clients save.

After every round the database must pass PRAGMA integrity_check, and every save the server
acknowledged (303) must be there with its exact text.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.helpers_http import HttpBrowser, free_port

ROUNDS = 4
CLIENTS = 16
SAVES_BEFORE_KILL = 60  # acknowledged saves per round before the kill
PASSWORD = "crash test password"


def wait_for(port: int, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def body_text(rng: random.Random, label: str) -> str:
    words = [
        "한·미",
        "동맹",
        "속보",
        "news",
        "ünïcödé",
        "🙂",
        "**굵게**",
        "<b>b</b>",
        "&amp;",
        "\\",
    ]
    lines = [
        " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        for _ in range(rng.randint(1, 8))
    ]
    return f"{label}\n" + "\n".join(lines)


def run_round(
    blog: Path, env: dict[str, str], round_number: int, acknowledged: dict[str, str]
) -> int:
    """Start the server, let CLIENTS save in parallel, SIGKILL it mid-write; saves acknowledged."""
    lock, stop, count = threading.Lock(), threading.Event(), [0]
    port = free_port()
    server = subprocess.Popen(
        [blog, "serve", "--port", str(port), "--threads", str(CLIENTS)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(port)
        browsers = [HttpBrowser(f"http://127.0.0.1:{port}") for _ in range(CLIENTS)]
        for browser in browsers:
            browser.sign_in("admin", PASSWORD)

        def save_until_killed(index: int, browser: HttpBrowser) -> None:
            number = 0
            while not stop.is_set():
                title = f"r{round_number}-c{index}-n{number}"
                body = body_text(random.Random(title), title)
                fields = {"title": title, "body": body, "format": "markdown", "status": "draft",
                          "version": ""}  # fmt: skip
                try:
                    answer = browser.request("/admin/posts/new", fields, timeout=10)
                except (OSError, http.client.HTTPException):
                    return  # the server died under us: this save was never acknowledged
                if answer.status == 303:
                    with lock:
                        acknowledged[title] = body
                        count[0] += 1
                number += 1

        threads = [
            threading.Thread(target=save_until_killed, args=(index, browser))
            for index, browser in enumerate(browsers)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while count[0] < SAVES_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(random.Random(round_number).random() * 0.05)  # a random point of some write
        os.kill(server.pid, signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=30)
    return count[0]


def test_kill_9_mid_write_loses_no_acknowledged_save(tmp_path: Path) -> None:
    blog = Path(sys.executable).parent / "blog"
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(tmp_path / "instance"), "BLOG_LANGUAGE": "en",
           "BLOG_ADMIN_USER": "admin", "BLOG_ADMIN_PASSWORD": PASSWORD}  # fmt: skip
    env.pop("DATABASE_URL", None)
    subprocess.run([blog, "init", "--no-sample"], env=env, check=True, capture_output=True)
    acknowledged: dict[str, str] = {}
    for round_number in range(ROUNDS):
        assert run_round(blog, env, round_number, acknowledged) >= SAVES_BEFORE_KILL
        database = tmp_path / "instance" / "blog.sqlite3"
        with sqlite3.connect(database) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            stored = dict(connection.execute("SELECT title, source FROM posts"))
        missing = [title for title in acknowledged if title not in stored]
        changed = [title for title, body in acknowledged.items() if stored.get(title, body) != body]
        assert missing == [] and changed == [], (round_number, missing[:5], changed[:5])
    print(
        f"crash test: {ROUNDS} kill -9 rounds, {len(acknowledged)} acknowledged saves all present"
    )
