"""A tiny HTTP browser for tests against a real server: cookies, CSRF token, no redirects."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


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

    def request(self, path: str, data: dict[str, str] | None = None, timeout: float = 30) -> Answer:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=timeout) as response:
                return Answer(
                    response.status, response.read().decode(), response.headers.get("Location", "")
                )
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(), error.headers.get("Location", ""))

    def sign_in(self, username: str, password: str) -> None:
        self.token = _TOKEN.search(self.request("/login").text)[1]  # type: ignore[index]
        answer = self.request("/login", {"login": username, "password": password})
        assert answer.status == 303, answer.text[:300]
        self.token = _TOKEN.search(self.request("/account").text)[1]  # type: ignore[index]
