"""Every `next` in the app redirects only to paths on this site, however it is spelled."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.urls import iri_to_uri

from blog.content.urls import local_path
from tests.conftest import PASSWORD, Login, post_form, token_from
from tests.security.redirect_spellings import ELSEWHERE, LOCAL

ALL = ELSEWHERE + LOCAL


def test_the_spelling_list_is_long_enough() -> None:
    assert len(ELSEWHERE) >= 30


@pytest.mark.parametrize("target", ELSEWHERE)
def test_local_path_refuses_every_spelling_of_another_site(target: str) -> None:
    assert local_path(target) is None


@pytest.mark.parametrize("target", LOCAL)
def test_local_path_keeps_paths_on_this_site(target: str) -> None:
    assert local_path(target) == target


def _query(target: str) -> str:
    return quote(target, safe="")


def _expected(target: str, fallback: str) -> str:
    # The Location header carries non-ASCII paths percent-encoded, as browsers send them.
    return iri_to_uri(target) if target in LOCAL else fallback


def test_login_next_never_leaves_the_blog(app: Flask, client: FlaskClient, login: Login) -> None:
    login("author")
    for target in ALL:
        response = client.get(f"/login?next={_query(target)}")
        assert response.status_code in {302, 303}, target
        assert response.headers["Location"] == _expected(target, "/admin/"), target


def test_login_form_next_never_leaves_the_blog(app: Flask, login: Login) -> None:
    login("author", username="writer", browser=app.test_client())
    for target in ALL:
        browser = app.test_client()
        token = token_from(browser.get("/login").text)
        response = browser.post(
            f"/login?next={_query(target)}",
            data={"login": "writer", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 303, (target, response.text[:200])
        assert response.headers["Location"] == _expected(target, "/admin/"), target


def _png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(output, "PNG")
    return output.getvalue()


def test_upload_next_never_leaves_the_blog(client: FlaskClient, login: Login) -> None:
    login("author")
    for target in ALL:
        response = post_form(
            client,
            "/admin/media",
            {"file": (io.BytesIO(_png()), "x.png"), "next": target},
            content_type="multipart/form-data",
        )
        assert response.status_code == 303, target
        # Refused targets fall back to the media page, scrolled to the uploaded file.
        location = response.headers["Location"].partition("#")
        assert location[0] == _expected(target, "/admin/media"), target
        assert not location[1] or location[0] == "/admin/media", target
