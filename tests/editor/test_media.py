"""Image uploads: checked by their bytes, limited in size, stripped of metadata, served cached."""

from __future__ import annotations

import html
import io
import re
import struct
import zlib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageCms, PngImagePlugin
from sqlalchemy import func, select

from blog.database import writing
from blog.extensions import db
from blog.models import AuditEvent, Media, Post, User
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


def upload(
    client: FlaskClient, data: bytes, name: str, alt: str = "", caption: str = "", **headers: str
) -> Any:
    return post_form(
        client,
        "/admin/media",
        {"file": (io.BytesIO(data), name), "next": "/admin/posts/new", "alt": alt,
         "caption": caption},
        content_type="multipart/form-data",
        headers=headers,
    )  # fmt: skip


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
    assert "only JPEG, PNG, WebP and GIF" in response.text  # type: ignore[attr-defined]


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
    assert "The image is damaged or incomplete." in response.text  # type: ignore[attr-defined]


def test_too_large_upload_is_refused(app: Flask, client: FlaskClient, login: Login) -> None:
    login("author")
    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = upload(client, jpeg_with_gps() + b"\x00" * 2000, "big.jpg")
    assert response.status_code == 422 and "too large: at most 0 MB" in response.text  # type: ignore[attr-defined]
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
        assert response.headers["Location"] == "/admin/media#media-1", evil


def test_without_javascript_an_image_travels_with_the_post(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    response = post_form(
        client,
        "/admin/posts/new",
        {"title": "", "body": "본문", "format": "markdown", "status": "draft", "version": "",
         "attachment": (io.BytesIO(jpeg_with_gps()), "사진.jpg"),
         "attachment_alt": "해운대 빛축제의 불빛 터널"},
        content_type="multipart/form-data",
    )  # fmt: skip
    # The title is missing: refused, but the text and the stored image come back.
    assert response.status_code == 422
    assert re.search(
        r"본문\n\n!\[해운대 빛축제의 불빛 터널\]\(/media/[0-9a-f]{64}/%EC%82%AC%EC%A7%84.jpg\)",
        response.text,
    )
    with app.app_context():
        assert db.session.execute(select(Media)).scalar_one().filename == "사진.jpg"


def test_without_javascript_the_form_asks_for_alt_text_and_keeps_the_image(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    fields = {"title": "제목", "body": "본문", "format": "markdown", "status": "draft",
              "version": ""}  # fmt: skip
    response = post_form(
        client, "/admin/posts/new",
        {**fields, "attachment": (io.BytesIO(jpeg_with_gps()), "사진.jpg")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 422 and "Alt text" in response.text
    assert "is stored but not yet in the body" in response.text
    assert "/media/" not in response.text.split('name="body"')[1].split("</textarea>")[0]
    waiting = re.search(r'name="attachment_url" form="post-form" value="([^"]+)"', response.text)
    assert waiting, "the stored image waits for its alt text"
    # No need to choose the file again: the alt text alone adds it.
    described = {"attachment_url": waiting[1], "attachment_alt": "파란 사진",
                 "attachment_caption": "사진: 김기자"}  # fmt: skip
    again = post_form(client, "/admin/posts/new", {**fields, **described})
    assert again.status_code == 303
    with app.app_context():
        body = db.session.execute(select(Post.source)).scalar_one()
    assert body == f"본문\n\n![파란 사진]({waiting[1]})\n\n*사진: 김기자*\n"


def test_a_waiting_attachment_must_name_a_stored_file(client: FlaskClient, login: Login) -> None:
    login("author")
    for bogus in ("/media/" + "0" * 64 + "/x.png", "https://evil.example/x.png", "/media/x/y"):
        response = post_form(client, "/admin/posts/new", {
            "title": "제목", "body": "본문", "format": "markdown", "status": "draft",
            "version": "", "attachment_url": bogus, "attachment_alt": "무엇"})  # fmt: skip
        assert response.status_code == 422 and "no longer in the library" in response.text
        assert "본문" in response.text and bogus not in response.text


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
    assert "only JPEG, PNG, WebP and GIF" in response.text


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


# -- one entry per image: a second upload of the same bytes says so ---------------------


def test_uploading_the_same_image_again_points_to_its_entry(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    photo = jpeg_with_gps()
    assert upload(client, photo, "first.jpg", alt="빨간 사각형").status_code == 303
    again = upload(client, photo, "second.jpg")
    assert again.status_code == 303 and again.headers["Location"] == "/admin/posts/new"
    page = client.get("/admin/posts/new").text
    assert "already in the media library as “first.jpg”" in page
    htmx = upload(client, photo, "third.jpg", **{"HX-Request": "true"})
    assert htmx.status_code == 200 and 'class="notice already-stored"' in htmx.text
    assert re.search(r'data-url="/media/[0-9a-f]{64}/first.jpg"', htmx.text)
    assert "third.jpg" not in htmx.text
    # The entry's alt text is what inserting it uses, when none is given now.
    assert re.search(
        r'data-markdown="!\[빨간 사각형\]\(/media/[0-9a-f]{64}/first.jpg\)"', htmx.text
    )
    with app.app_context():
        assert db.session.execute(select(func.count(Media.id))).scalar_one() == 1


def test_htmx_upload_offers_snippets_with_alt_text_and_caption(
    client: FlaskClient, login: Login
) -> None:
    login("author")
    response = upload(client, jpeg_with_gps(), "p.jpg", alt='a "quoted" <script>]',
                      caption="사진 <b>김기자</b>", **{"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200
    html_snippet = re.search(r'data-html="([^"]*)"', response.text)
    markdown_snippet = re.search(r'data-markdown="([^"]*)"', response.text)
    assert html_snippet and markdown_snippet
    snippet = html.unescape(html_snippet[1])
    assert snippet.startswith('<figure><img src="/media/')
    assert 'alt="a &quot;quoted&quot; &lt;script&gt;]"' in snippet
    assert snippet.endswith("<figcaption>사진 &lt;b&gt;김기자&lt;/b&gt;</figcaption></figure>")
    assert html.unescape(markdown_snippet[1]).startswith('![a "quoted" &lt;script\\>\\]](/media/')


def test_hostile_alt_text_on_upload_is_named_and_kept(client: FlaskClient, login: Login) -> None:
    login("author")
    response = upload(client, jpeg_with_gps(), "p.jpg", alt="보이지 않는\u202e글자",
                      caption="x" * 1001)  # fmt: skip
    assert response.status_code == 422
    assert "invisible control character (U+202E)" in response.text
    assert "at most 1000 characters" in response.text
    assert 'value="보이지 않는\u202e글자"' in response.text


# -- refusals in plain words, each made with a real bad file -------------------------------


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height`, with no pixels behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0"))
            + chunk(b"IEND", b""))  # fmt: skip


def truncated_png() -> bytes:
    output = io.BytesIO()
    Image.effect_noise((200, 200), 64).convert("RGB").save(output, "PNG")
    return output.getvalue()[:-400]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (truncated_png(), "The image is damaged or incomplete."),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "The image is damaged or incomplete."),
        (png_header(7100, 7100), "The image is too large (7100 × 7100 pixels): at most 50 million"),
        (png_header(100_000, 100_000), "The image is too large: at most 50 million pixels"),
        (b"%PDF-1.4\n", "This file is not an image that can be uploaded: only JPEG, PNG, WebP"),
        (b"GIF89a" + b"\x00" * 3000, "The file is too large: at most 0 MB."),
    ],
    ids=["empty", "truncated", "broken-jpeg", "too-many-pixels", "bomb", "pdf", "too-many-bytes"],
)
def test_each_refused_upload_names_its_problem(
    app: Flask, client: FlaskClient, login: Login, data: bytes, message: str
) -> None:
    login("author")
    if message.startswith("The file is too large"):
        app.config["MAX_UPLOAD_BYTES"] = 2000
    response = upload(client, data, "bad.png")
    assert response.status_code == 422
    assert message in response.text
    for english in ("truncated", "decompression bomb", "DOS attack", "cannot identify"):
        assert english not in response.text


def test_refusals_speak_the_users_language(app: Flask, client: FlaskClient, login: Login) -> None:
    user_id = login("author")
    with app.app_context(), writing():
        db.session.get(User, user_id).language = "ko"  # type: ignore[union-attr]
    assert "파일이 비어 있습니다." in upload(client, b"", "x.png").text
    assert "이미지가 손상되었거나" in upload(client, truncated_png(), "x.png").text


# -- describing and deleting files -----------------------------------------------------------


def stored_media(app: Flask) -> Media:
    with app.app_context():
        return db.session.execute(select(Media)).scalar_one()


def test_alt_text_and_caption_are_edited_on_the_media_page(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    upload(client, jpeg_with_gps(), "p.jpg")
    media_id = stored_media(app).id
    response = post_form(client, f"/admin/media/{media_id}",
                         {"alt": " 광안대교 야경 ", "caption": "사진: 김기자"})  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/media#media-{media_id}"
    item = stored_media(app)
    assert (item.alt, item.caption) == ("광안대교 야경", "사진: 김기자")
    for alt, caption, problem in [
        ("nul\x00", "fine", "invisible control character (U+0000)"),
        ("가" * 501, "fine", "at most 500 characters"),
        ("fine", "\u2067역방향", "invisible control character (U+2067)"),
    ]:
        refused = post_form(client, f"/admin/media/{media_id}", {"alt": alt, "caption": caption})
        assert refused.status_code == 422 and problem in refused.text
        assert f'value="{alt}"' in refused.text and f'value="{caption}"' in refused.text
    assert stored_media(app).alt == "광안대교 야경"


def test_others_may_not_describe_or_delete_your_upload(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author", username="kim")
    upload(client, jpeg_with_gps(), "p.jpg")
    media_id = stored_media(app).id
    other = app.test_client()
    login("author", username="lee", browser=other)
    assert post_form(other, f"/admin/media/{media_id}", {"alt": "x"}).status_code == 403
    assert post_form(other, f"/admin/media/{media_id}/delete",
                     {"confirmed": "yes"}).status_code == 403  # fmt: skip
    assert "Delete" not in other.get("/admin/media").text
    editor = app.test_client()
    login("editor", browser=editor)
    assert post_form(editor, f"/admin/media/{media_id}/delete",
                     {"confirmed": "yes"}).status_code == 303  # fmt: skip
    with app.app_context():
        assert db.session.get(Media, media_id) is None


def test_deleting_an_unused_file_asks_first_and_is_audited(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    upload(client, jpeg_with_gps(), "p.jpg")
    item = stored_media(app)
    asked = post_form(client, f"/admin/media/{item.id}/delete")
    assert asked.status_code == 200 and "Delete “p.jpg”?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert stored_media(app).id == item.id  # nothing happened yet
    htmx = post_form(client, f"/admin/media/{item.id}/delete", headers={"HX-Request": "true"})
    assert "<html" not in htmx.text and 'id="confirmation"' in htmx.text
    done = post_form(client, f"/admin/media/{item.id}/delete", {"confirmed": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == "/admin/media"
    assert "“p.jpg” is deleted." in client.get("/admin/media").text
    assert app.test_client().get(f"/media/{item.sha256}/p.jpg").status_code == 404
    with app.app_context():
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert (event.action, event.target) == ("media.delete", "p.jpg")
        assert event.detail["sha256"] == item.sha256


def test_a_file_in_use_is_not_deleted_and_the_posts_are_named(
    app: Flask, client: FlaskClient, login: Login, make_post: Any
) -> None:
    login("editor")
    upload(client, jpeg_with_gps(), "p.jpg")
    item = stored_media(app)
    new_post(client, title="사진을 쓰는 글", body=f"![p](/media/{item.sha256}/p.jpg)")
    page = client.get("/admin/media").text
    assert "In use: it can be deleted once no post uses it." in page
    for data in ({}, {"confirmed": "yes"}):
        refused = post_form(client, f"/admin/media/{item.id}/delete", data)
        assert refused.status_code == 409 and "cannot be deleted" in refused.text
        assert re.search(r'<a href="/admin/posts/\d+/edit">사진을 쓰는 글</a>', refused.text)
    assert stored_media(app).id == item.id


def test_others_drafts_using_a_file_are_counted_not_named(
    app: Flask, client: FlaskClient, login: Login, make_post: Any
) -> None:
    kim = login("author", username="kim")
    upload(client, jpeg_with_gps(), "p.jpg")
    item = stored_media(app)
    other = login("contributor", username="park", browser=app.test_client())
    make_post(title="박기자의 비밀 초안", status="draft", author_id=other,
              source=f"![p](/media/{item.sha256}/p.jpg)")  # fmt: skip
    assert kim
    refused = post_form(client, f"/admin/media/{item.id}/delete", {"confirmed": "yes"})
    assert refused.status_code == 409 and "1 posts you cannot open" in refused.text
    assert "비밀 초안" not in refused.text


def test_an_upload_records_its_upright_size_and_the_article_gives_it_to_the_img(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("admin")
    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turned 90 degrees; stored upright, so 48 x 64
    Image.new("RGB", (64, 48), (10, 80, 200)).save(photo, "JPEG", exif=exif)
    assert upload(client, photo.getvalue(), "세로.jpg").status_code == 303
    with app.app_context():
        media = db.session.execute(select(Media)).scalar_one()
        assert (media.width, media.height) == (48, 64)
        url = f"/media/{media.sha256}/{media.filename}"
    response = new_post(client, title="사진 기사", slug="photo", status="published",
                        body=f"![세로 사진]({url})\n\n본문")  # fmt: skip
    assert response.status_code == 303, response.text
    article = client.get("/posts/photo").text
    assert f'<img alt="세로 사진" src="{url}" width="48" height="64" loading="lazy">' in article
