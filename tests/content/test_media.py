from __future__ import annotations

import pytest

from blog.content.media import safe_filename, sniff_image_type


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x1cftypavif", "image/avif"),
        (
            b'<?xml version="1.0"?>\n<!-- c -->\n<svg xmlns="http://www.w3.org/2000/svg">',
            "image/svg+xml",
        ),
        (b"<svg>", "image/svg+xml"),
        (b"<html><svg>", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"plain text", None),
        (b"", None),
    ],
)
def test_image_type_comes_from_the_bytes(data: bytes, expected: str | None) -> None:
    assert sniff_image_type(data) == expected


def test_safe_filename_strips_directories_and_url_breakers() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename('C:\\photos\\my "pic"?.jpg') == "my pic.jpg"
    assert safe_filename("...") == "file"
