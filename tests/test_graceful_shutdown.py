"""SIGTERM stops `blog serve` gracefully: no new connections, requests in flight answered,
then exit 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers_http import free_port
from tests.test_cli import _get_when_up


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_answers_the_request_in_flight_then_exits_0(tmp_path: Path) -> None:
    blog = Path(sys.executable).parent / "blog"
    port = free_port()
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(tmp_path / "data"), "PORT": str(port),
           "BLOG_ADMIN_PASSWORD": "correct horse battery staple"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    # A new data directory: serve sets the blog up first, as `blog init` does.
    server = subprocess.Popen([blog, "serve"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert "한·미 동맹" in _get_when_up(f"http://127.0.0.1:{port}/")
        # A slow client: the request line and a header are in, the blank line is not.
        slow = socket.create_connection(("127.0.0.1", port), timeout=30)
        slow.sendall(f"GET /?page=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
        time.sleep(1)  # let the server's loop read what was sent (on a busy machine too)
        server.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while not refused(port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.05)
        assert server.poll() is None, "exited with a request in flight"
        slow.sendall(b"Connection: keep-alive\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"</html>"):
            chunk = slow.recv(65536)
            if not chunk:
                break
            answer += chunk
        slow.close()
        assert answer.startswith(b"HTTP/1.1 200 OK"), answer[:200]
        assert "한·미 동맹" in answer.decode()
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
        out, err = server.communicate(timeout=20)
    assert "Created admin account 'admin'" in out and "Blog stopped" in out
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {"method": "GET", "path": "/", "status": 200} in [
        {key: line[key] for key in ("method", "path", "status")} for line in logged
    ]
    assert len([line for line in logged if line["path"] == "/"]) == 2
    assert "page=1" not in err
