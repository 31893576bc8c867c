"""A tiny HTTP browser for tests against a real server: cookies, CSRF token, no redirects."""

from __future__ import annotations

import http.cookiejar
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from tests.conftest import token_from


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Answer:
    status: int
    text: str
    location: str


class HttpBrowser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect
        )
        self.token = ""

    def request(
        self,
        path: str,
        data: dict[str, str] | None = None,
        timeout: float = 30,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        request = urllib.request.Request(self.base + path, body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Answer(
                    response.status, response.read().decode(), response.headers.get("Location", "")
                )
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(), error.headers.get("Location", ""))

    def sign_in(self, username: str, password: str) -> None:
        self.token = token_from(self.request("/login").text)
        answer = self.request("/login", {"login": username, "password": password})
        assert answer.status == 303, answer.text[:300]
        self.token = token_from(self.request("/account").text)
