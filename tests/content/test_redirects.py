from __future__ import annotations

import unicodedata

import pytest

from blog.content.redirects import normalise_path


@pytest.mark.parametrize(
    "path",
    [
        "/news/2024/07/22/한미-동맹.html",
        "/news/2024/07/22/한미-동맹",
        "/news/2024/07/22/한미-동맹/",
        "/news/2024/07/22/한미-동맹/index.html",
        "/news/2024/07/22/%ED%95%9C%EB%AF%B8-%EB%8F%99%EB%A7%B9.html",
        "//news//2024/07/22/한미-동맹.html",
        unicodedata.normalize("NFD", "/news/2024/07/22/한미-동맹.html"),
        "/news/2024/07/22/한미-동맹.html?utm_source=x",
    ],
)
def test_every_spelling_of_an_old_url_normalises_alike(path: str) -> None:
    assert normalise_path(path) == "/news/2024/07/22/한미-동맹"


def test_root_stays_root() -> None:
    assert normalise_path("/") == "/"
    assert normalise_path("/index.html") == "/"
