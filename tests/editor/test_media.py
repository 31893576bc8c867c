"""Image uploads: checked by their bytes, limited in size, stripped of metadata, served cached."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageCms, PngImagePlugin
from sqlalchemy import select

from blog.extensions import db
from blog.models import Media
from tests.conftest import Login, post_form
from tests.editor.test_editing import new_post


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 0.0)}  # GPS info
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif)
    return output.getvalue()


def upload(client: FlaskClient, data: bytes, name: str, **headers: str) -> object:
    return post_form(
        client,
        "/admin/media",
        {"file": (io.BytesIO(data), name), "next": "/admin/posts/new"},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_upload_strips_metadata_and_serves_with_long_cache(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    original = jpeg_with_gps()
    assert b"SecretCam" in original
    response = upload(client, original, "photo.jpg")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/posts/new"  # type: ignore[attr-defined]
    with app.app_context():
        media = db.session.execute(select(Media)).scalar_one()
        assert media.content_type == "image/jpeg" and media.filename == "photo.jpg"
        assert b"SecretCam" not in media.data and not Image.open(io.BytesIO(media.data)).getexif()
        url = f"/media/{media.sha256}/photo.jpg"
    served = app.test_client().get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_htmx_upload_returns_the_insert_buttons(client: FlaskClient, login: Login) -> None:
    login("author")
    png = io.BytesIO()
    Image.new("RGBA", (10, 10)).save(png, "PNG")
    response = upload(client, png.getvalue(), "그림.png", **{"HX-Request": "true"})
    assert response.status_code == 200  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "<html" not in text and 'id="upload-result"' in text
    assert re.search(r'data-url="/media/[0-9a-f]{64}/%EA%B7%B8%EB%A6%BC.png"', text)
    assert "data-insert-image" in text and "data-feature-image" in text


def test_file_pretending_to_be_an_image_is_refused(client: FlaskClient, login: Login) -> None:
    login("author")
    response = upload(client, b"#!/bin/sh\necho hi\n", "innocent.jpg")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Only JPEG, PNG, WebP and GIF images can be uploaded." in response.text  # type: ignore[attr-defined]


def test_svg_upload_is_refused(client: FlaskClient, login: Login) -> None:
    login("author")
    response = upload(
        client, b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.svg"
    )
    assert response.status_code == 422  # type: ignore[attr-defined]


def test_broken_image_is_refused(client: FlaskClient, login: Login) -> None:
    login("author")
    response = upload(client, b"\xff\xd8\xff\xe0" + b"\x00" * 50 + b"broken", "broken.jpg")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "could not be read" in response.text  # type: ignore[attr-defined]


def test_too_large_upload_is_refused(app: Flask, client: FlaskClient, login: Login) -> None:
    login("author")
    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = upload(client, jpeg_with_gps() + b"\x00" * 2000, "big.jpg")
    assert response.status_code == 422 and "larger than" in response.text  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = 500
    assert upload(client, b"x" * 5000, "huge.jpg").status_code == 413  # type: ignore[attr-defined]


def test_media_page_lists_where_files_are_used(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    upload(client, jpeg_with_gps(), "photo.jpg")
    with app.app_context():
        sha = db.session.execute(select(Media.sha256)).scalar_one()
    new_post(client, title="Uses the photo", body=f"![p](/media/{sha}/photo.jpg)")
    page = client.get("/admin/media")
    assert "Uses the photo" in page.text


def test_uploads_need_a_login(client: FlaskClient) -> None:
    assert client.post("/admin/media", data={}).status_code in (302, 400)
    assert client.get("/admin/media").status_code == 302


def test_new_post_page_offers_upload_without_javascript(client: FlaskClient, login: Login) -> None:
    login("author")
    html = client.get("/admin/posts/new").text
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html


def test_upload_redirect_never_leaves_the_blog(client: FlaskClient, login: Login) -> None:
    login("author")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = post_form(
            client,
            "/admin/media",
            {"file": (io.BytesIO(jpeg_with_gps()), "p.jpg"), "next": evil},
            content_type="multipart/form-data",
        )
        assert response.headers["Location"] == "/admin/media", evil


def test_without_javascript_an_image_travels_with_the_post(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    response = post_form(
        client,
        "/admin/posts/new",
        {"title": "", "body": "본문", "format": "markdown", "status": "draft", "version": "",
         "attachment": (io.BytesIO(jpeg_with_gps()), "사진.jpg")},
        content_type="multipart/form-data",
    )  # fmt: skip
    # The title is missing: refused, but the text and the stored image come back.
    assert response.status_code == 422
    assert re.search(
        r"본문\n\n!\[사진\]\(/media/[0-9a-f]{64}/%EC%82%AC%EC%A7%84.jpg\)", response.text
    )
    with app.app_context():
        assert db.session.execute(select(Media)).scalar_one().filename == "사진.jpg"


def test_a_bad_attachment_is_named_and_the_text_kept(client: FlaskClient, login: Login) -> None:
    login("author")
    response = post_form(
        client,
        "/admin/posts/new",
        {"title": "Title", "body": "지킬 본문", "format": "markdown", "status": "draft",
         "version": "", "attachment": (io.BytesIO(b"not an image"), "x.jpg")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 422 and "지킬 본문" in response.text
    assert "Only JPEG, PNG, WebP and GIF images can be uploaded." in response.text


# -- metadata: nothing but pictures and their colour profile reach the media store --------

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
MARKERS = (b"SecretCam", b"SECRET-COMMENT", b"SECRET-XMP", b"SECRET-TEXT", b"SECRET-ITXT")
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description>SECRET-XMP</rdf:Description></rdf:RDF></x:xmpmeta>'
)


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 0.0), 3: "E", 4: (126.0, 58.0, 0.0)}  # GPS
    return exif


def image_with_metadata(kind: str) -> bytes:
    output = io.BytesIO()
    picture = Image.new("RGB", (64, 48), (200, 30, 30))
    if kind == "jpeg":
        picture.save(output, "JPEG", exif=gps_exif(), comment=b"SECRET-COMMENT", xmp=XMP,
                     icc_profile=SRGB)  # fmt: skip
    elif kind == "gif":
        picture.convert("P").save(output, "GIF", comment=b"SECRET-COMMENT")
    elif kind == "png":
        text = PngImagePlugin.PngInfo()
        text.add_text("Author", "SECRET-TEXT")
        text.add_itxt("Comment", "SECRET-ITXT")
        picture.save(output, "PNG", pnginfo=text, exif=gps_exif(), icc_profile=SRGB)
    elif kind == "webp":
        picture.save(output, "WEBP", exif=gps_exif(), xmp=XMP, icc_profile=SRGB)
    return output.getvalue()


def assert_only_pictures(data: bytes, keeps_icc: bool) -> None:
    for marker in MARKERS:
        assert marker not in data, marker
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        kept = set(image.info) - {"icc_profile", "dpi", "jfif", "jfif_version", "jfif_unit",
                                  "jfif_density", "version", "background", "loop", "duration",
                                  "transparency", "progressive", "progression"}  # fmt: skip
        assert not kept, kept
        assert not getattr(image, "text", {})
        if keeps_icc:
            assert image.info["icc_profile"] == SRGB


@pytest.mark.parametrize(
    ("kind", "content_type", "keeps_icc"),
    [
        ("jpeg", "image/jpeg", True),
        ("gif", "image/gif", False),
        ("png", "image/png", True),
        ("webp", "image/webp", True),
    ],
)
def test_uploads_keep_no_exif_gps_comments_xmp_or_text(
    app: Flask, client: FlaskClient, login: Login, kind: str, content_type: str, keeps_icc: bool
) -> None:
    login("author")
    original = image_with_metadata(kind)
    assert any(marker in original for marker in MARKERS)  # the markers are really there
    assert upload(client, original, f"x.{kind}").status_code == 303  # type: ignore[attr-defined]
    with app.app_context():
        media = db.session.execute(select(Media)).scalar_one()
        assert media.content_type == content_type
        assert_only_pictures(media.data, keeps_icc)


def test_an_animated_gif_upload_stays_animated(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    frames = [Image.new("RGB", (30, 20), (90 * index, 40, 200)) for index in range(3)]
    source = io.BytesIO()
    frames[0].save(source, "GIF", save_all=True, append_images=frames[1:], loop=0,
                   duration=80, comment=b"SECRET-COMMENT")  # fmt: skip
    assert upload(client, source.getvalue(), "moving.gif").status_code == 303  # type: ignore[attr-defined]
    with app.app_context():
        data = db.session.execute(select(Media.data)).scalar_one()
    assert b"SECRET-COMMENT" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.n_frames == 3 and image.info["loop"] == 0 and "comment" not in image.info
