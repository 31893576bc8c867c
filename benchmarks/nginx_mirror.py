"""Debian's nginx with the shipped configuration (deploy/nginx/blog.conf), in the foreground on
loopback ports, for the static mirror's and the deployment's tests and the benchmark.

Only what a test machine needs is changed: the ports, the mirror directory, the static cache
and the log; the TLS parts are left out (the port 80 server that redirects to HTTPS, the
`listen ... ssl` lines, `ssl_*`, Strict-Transport-Security); the pid file, logs and temporary
files live in one work directory. Each line replaced or left out must be there as expected,
so the tests keep testing the file we ship.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "deploy" / "nginx" / "blog.conf"

# The plain HTTP server: it only redirects to HTTPS (and answers certbot).
_REDIRECT_SERVER = re.compile(r"^server \{\n    listen 80;\n.*?^\}\n", re.M | re.S)
# A line that is only about TLS.
_TLS_LINE = re.compile(
    r"^\s*(listen \S+ ssl\b.*|ssl_\w+ .*|add_header Strict-Transport-Security .*)\n", re.M
)


def without_tls(text: str) -> str:
    """The shipped configuration over plain HTTP: its HTTPS server, minus what is TLS."""
    redirects = _REDIRECT_SERVER.findall(text)
    if len(redirects) != 1 or "return 301 https://" not in redirects[0]:
        raise ValueError(f"{SHIPPED} no longer has one port 80 server redirecting to HTTPS")
    text = _REDIRECT_SERVER.sub("", text)
    dropped = _TLS_LINE.findall(text)
    expected = {"listen 443 ssl", "listen [::]:443 ssl", "ssl_certificate ", "ssl_certificate_key ",
                "add_header Strict-Transport-Security "}  # fmt: skip
    if not all(any(line.strip().startswith(start) for line in dropped) for start in expected):
        raise ValueError(f"{SHIPPED} no longer has the TLS lines expected: {dropped}")
    first_listen = _TLS_LINE.search(text)
    assert first_listen is not None
    # The HTTPS server's first `listen ... ssl` becomes the plain listen line the tests set.
    text = text[: first_listen.start()] + "    listen 443;\n" + text[first_listen.end() :]
    return _TLS_LINE.sub("", text)


def site_config(
    listen_port: int, app_port: int | Sequence[int], mirror: Path, access_log: Path
) -> str:
    """deploy/nginx/blog.conf without TLS for these ports (one `blog serve` or several), this
    mirror directory and this log; nginx keeps static files beside the log."""
    text = without_tls(SHIPPED.read_text())
    ports = [app_port] if isinstance(app_port, int) else list(app_port)
    servers = "\n    ".join(f"server 127.0.0.1:{port};" for port in ports)
    replacements = {
        "server 127.0.0.1:8000;": servers,
        "listen 443;": f"listen 127.0.0.1:{listen_port};",
        "root /var/cache/blog/mirror/current;": f"root {mirror}/current;",
        "access_log /var/log/nginx/blog.access.log blog_mirror;": (
            f"access_log {access_log} blog_mirror;"
        ),
        "proxy_cache_path /var/cache/nginx/blog-static ": (
            f"proxy_cache_path {access_log.parent / 'static-cache'} "
        ),
    }
    for old, new in replacements.items():
        if text.count(old) != 1:
            raise ValueError(f"{SHIPPED} no longer has {old!r} exactly once")
        text = text.replace(old, new)
    return text


def plain_file_server(listen_port: int, directory: Path) -> str:
    """A server block serving the files in `directory` as they are: the reference. It logs
    each request as the blog's server does, so the two differ only in what the mirror adds."""
    return f"""
server {{
    listen 127.0.0.1:{listen_port};
    access_log {directory.parent / "plain-access.log"} blog_mirror;
    root {directory};
}}
"""


def main_config(work: Path, servers: str) -> str:
    temporary = "\n".join(
        f"    {kind}_temp_path {work / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
user root;
worker_processes auto;
pid {work / "nginx.pid"};
error_log {work / "error.log"} warn;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
{temporary}
{servers}
}}
"""


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it is still there 10 s later."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    work: Path

    def stop(self) -> None:
        stop_process(self.process)

    def error_log(self) -> str:
        log = self.work / "error.log"
        return log.read_text(errors="replace") if log.exists() else ""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


def start_nginx(work: Path, servers: str, port: int) -> Nginx:
    """Run nginx with these server blocks until `port` answers."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is missing: apt-get install nginx")
    work.mkdir(parents=True, exist_ok=True)
    config = work / "nginx.conf"
    config.write_text(main_config(work, servers))
    checked = subprocess.run(
        [binary, "-t", "-c", str(config), "-p", str(work), "-e", str(work / "error.log")],
        capture_output=True,
        text=True,
    )
    if checked.returncode != 0:
        raise RuntimeError(f"nginx refuses the configuration:\n{checked.stderr}")
    process = subprocess.Popen(
        [binary, "-c", str(config), "-p", str(work), "-e", str(work / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nginx = Nginx(process, work)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited ({process.returncode}):\n{nginx.error_log()}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("HEAD", "/robots.txt")
            connection.getresponse().read()
            return nginx
        except OSError:
            time.sleep(0.02)
        finally:
            connection.close()
    nginx.stop()
    raise RuntimeError(f"nginx did not answer on port {port}:\n{nginx.error_log()}")
