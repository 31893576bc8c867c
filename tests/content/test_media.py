from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from PIL import Image, ImageCms, features
from sqlalchemy import func, select

from blog.content.media import (
    IMPORT_TYPES,
    MAX_ANIMATION_FRAMES,
    MAX_IMAGE_PIXELS,
    CleanImage,
    MediaInUse,
    UploadError,
    _clean_svg,
    _count_gif_frames,
    clean_image,
    delete_media,
    image_snippet,
    prepare_upload,
    safe_filename,
    sniff_image_type,
    store_media,
    upload_image,
)
from blog.database import writing
from blog.extensions import db
from blog.models import Media


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


# -- decompression bombs ---------------------------------------------------------------


def _gif_of_dots(canvas: int, frames: int) -> bytes:
    """A GIF whose `frames` frames each add one white dot to a black canvas x canvas.

    Every frame is stored as one pixel, so the file stays tiny, but a decoder composes each
    into the full canvas: 20 frames of 4000 x 4000 are 320 M pixels from a few hundred bytes.
    """
    dot = Image.new("P", (1, 1), 1)
    dot.putpalette([0, 0, 0, 255, 255, 255])
    single = io.BytesIO()
    dot.save(single, "GIF")
    data = single.getvalue()
    table_end = 13 + (3 << ((data[10] & 7) + 1))
    assert data[table_end] == 0x2C and data[-1] == 0x3B
    after_descriptor = data[table_end + 9 : -1]  # flags, LZW code size, pixel data
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    parts = [b"GIF89a", struct.pack("<HH", canvas, canvas), data[10:table_end], loop]
    for index in range(frames):
        parts.append(b"\x21\xf9\x04\x00\x0a\x00\x00\x00")  # 100 ms, no disposal
        parts.append(b"\x2c" + struct.pack("<HHHH", index % canvas, index // canvas, 1, 1))
        parts.append(after_descriptor)
    return b"".join(parts) + b"\x3b"


_CHILD = """
import json, resource, sys
from blog.content.media import UploadError, prepare_upload
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    prepare_upload(data, 10 * 1024 * 1024)
    outcome = "accepted"
except UploadError as error:
    outcome = str(error)
# The growth of the peak over what importing the blog took: prepare_upload's own share.
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "max_rss_mb": (peak - before) / 1024}))
"""


def _upload_in_child(path: Path) -> dict[str, object]:
    """prepare_upload in a fresh process, so its peak memory is measured alone."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
        timeout=120,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_animation_bomb_is_refused_before_its_frames_are_decoded(tmp_path: Path) -> None:
    bomb = _gif_of_dots(4000, 20)
    assert len(bomb) < 1000
    with Image.open(io.BytesIO(bomb)) as image:
        assert image.size == (4000, 4000) and image.n_frames == 20
    path = tmp_path / "bomb.gif"
    path.write_bytes(bomb)
    result = _upload_in_child(path)
    assert "animation is too large" in str(result["outcome"])
    assert "32 million pixels" in str(result["outcome"])
    # Decoding the frames took 1.9 GB; refusing from the header takes what Python needs.
    assert float(result["max_rss_mb"]) < 50  # type: ignore[arg-type]


def test_an_animation_within_the_bound_is_kept_animated_in_bounded_memory(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.gif"
    path.write_bytes(_gif_of_dots(2000, 8))  # 32 M pixel-frames: just inside the bound
    result = _upload_in_child(path)
    assert result["outcome"] == "accepted"
    assert float(result["max_rss_mb"]) < 300  # type: ignore[arg-type]


def test_many_tiny_frames_are_refused_without_reading_them_all() -> None:
    tiny = _gif_of_dots(2, MAX_ANIMATION_FRAMES + 1)
    assert _count_gif_frames(tiny, stop_after=10) == 10
    with pytest.raises(UploadError, match="1000 frames"):
        prepare_upload(tiny, 10 * 1024 * 1024)


def test_frames_are_counted_as_pillow_counts_them() -> None:
    for frames in (1, 2, 7):
        data = _gif_of_dots(3, frames)
        with Image.open(io.BytesIO(data)) as image:
            assert _count_gif_frames(data, stop_after=100) == image.n_frames == frames


def test_a_small_animation_stays_animated_with_its_timing() -> None:
    frames = [Image.new("RGB", (40, 30), (index * 50, 80, 160)) for index in range(4)]
    source = io.BytesIO()
    frames[0].save(
        source, "GIF", save_all=True, append_images=frames[1:], loop=3, duration=[100, 200, 300, 40]
    )
    clean = prepare_upload(source.getvalue(), 10 * 1024 * 1024)
    assert clean.content_type == "image/gif"
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.n_frames == 4 and image.info["loop"] == 3
        durations = []
        for index in range(4):
            image.seek(index)
            durations.append(image.info["duration"])
    assert durations == [100, 200, 300, 40]


def test_pixel_limit_is_ours_not_twice_pillows() -> None:
    # 7100 x 7100 is 50.4 M pixels: over our limit, under the 100 M at which Pillow would
    # refuse with MAX_IMAGE_PIXELS = 50 M. A PNG header alone says so; nothing is decoded.
    header = io.BytesIO()
    Image.new("1", (7100, 7100)).save(header, "PNG")
    assert MAX_IMAGE_PIXELS < 7100 * 7100 < 2 * MAX_IMAGE_PIXELS
    with pytest.raises(UploadError, match="at most 50 million pixels"):
        prepare_upload(header.getvalue(), 10 * 1024 * 1024)


# -- one way into the media store ------------------------------------------------------


def test_a_clean_image_comes_only_from_clean_image() -> None:
    with pytest.raises(TypeError):
        CleanImage(b"GIF89a...", "image/gif", "0" * 64)
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    clean = clean_image(png.getvalue(), 1024 * 1024)
    assert clean.content_type == "image/png"
    assert clean.sha256 == hashlib.sha256(clean.data).hexdigest()


def test_store_media_refuses_raw_bytes(app_ctx: Flask) -> None:
    with writing(), pytest.raises(TypeError, match="CleanImage"):
        store_media(b"\x89PNG\r\n\x1a\n", "x.png")  # type: ignore[arg-type]


def test_store_media_keeps_one_row_per_image(app_ctx: Flask) -> None:
    png = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(png, "PNG")
    clean = clean_image(png.getvalue(), 1024 * 1024)
    with writing():
        first = store_media(clean, "a.png")
        again = store_media(clean, "b.png")  # the same picture under another name
    assert first.id == again.id and again.filename == "a.png"
    assert db.session.execute(select(func.count(Media.id))).scalar_one() == 1


INKSCAPE_SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Created with Inkscape by SECRET-COMMENT -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
     xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
     xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/"
     width="10" height="10" sodipodi:docname="SECRET-DOCNAME.svg"
     inkscape:export-filename="/home/SECRET-USER/drawing.png">
  <sodipodi:namedview id="base" inkscape:zoom="1"/>
  <metadata><rdf:RDF><cc:Work><dc:creator>SECRET-AUTHOR</dc:creator></cc:Work></rdf:RDF></metadata>
  <defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>
  <g inkscape:label="SECRET-LAYER" inkscape:groupmode="layer">
    <rect width="10" height="10" fill="url(#g)"/>
    <use xlink:href="#g"/>
    <text xml:space="preserve">before<inkscape:x/>after</text>
  </g>
</svg>"""


def test_svg_keeps_its_drawing_and_drops_comments_metadata_and_editor_data() -> None:
    clean = clean_image(INKSCAPE_SVG, 1024 * 1024, IMPORT_TYPES)
    assert clean.content_type == "image/svg+xml"
    assert b"SECRET" not in clean.data and b"inkscape" not in clean.data
    assert b"sodipodi" not in clean.data and b"metadata" not in clean.data
    assert clean.data.startswith(
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    )
    assert sniff_image_type(clean.data) == "image/svg+xml"
    root = ElementTree.fromstring(clean.data)
    svg = "{http://www.w3.org/2000/svg}"
    assert root.find(f".//{svg}rect") is not None
    assert root.find(f".//{svg}stop").get("stop-color") == "red"  # type: ignore[union-attr]
    assert root.find(f".//{svg}use").get("{http://www.w3.org/1999/xlink}href") == "#g"  # type: ignore[union-attr]
    assert "".join(root.find(f".//{svg}text").itertext()) == "beforeafter"  # type: ignore[union-attr]


def test_svg_entity_bombs_and_external_entities_are_refused() -> None:
    entities = "".join(f'<!ENTITY e{level} "{f"&e{level - 1};" * 10}">' for level in range(1, 9))
    laughs = (
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY e0 "lol">{entities}]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&e8;</text></svg>'
    ).encode()
    with pytest.raises(UploadError):
        clean_image(laughs, 1024 * 1024, IMPORT_TYPES)
    # Python's expat refuses the expansion itself (whether or not the sniffer, which does
    # not read internal DTD subsets, recognises the file as SVG in the first place).
    with pytest.raises(UploadError, match="damaged or incomplete") as refused:
        _clean_svg(laughs, 1024 * 1024)
    assert "amplification" in str(refused.value.__cause__)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
    )
    with pytest.raises(UploadError):
        clean_image(external, 1024 * 1024, IMPORT_TYPES)
    with pytest.raises(UploadError) as refused:
        _clean_svg(external, 1024 * 1024)
    assert "undefined entity" in str(refused.value.__cause__)
    with pytest.raises(UploadError, match="The SVG image is damaged or incomplete."):
        clean_image(b"<svg><unclosed></svg>", 1024 * 1024, IMPORT_TYPES)


def test_svg_is_refused_for_uploads() -> None:
    with pytest.raises(UploadError, match="only JPEG, PNG, WebP and GIF"):
        clean_image(INKSCAPE_SVG, 1024 * 1024)


def test_avif_is_re_encoded_without_exif_and_xmp() -> None:
    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    source = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(
        source, "AVIF", exif=exif, xmp=b"<x:xmpmeta>SECRET-XMP</x:xmpmeta>"
    )
    assert b"SecretCam" in source.getvalue()
    clean = clean_image(source.getvalue(), 1024 * 1024, IMPORT_TYPES)
    assert clean.content_type == "image/avif"
    assert b"SecretCam" not in clean.data and b"SECRET-XMP" not in clean.data


def test_avif_is_refused_when_pillow_cannot_re_encode_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(features, "check", lambda name: name != "avif")
    with pytest.raises(UploadError, match="AVIF"):
        clean_image(b"\x00\x00\x00\x1cftypavif" + b"\x00" * 40, 1024 * 1024, IMPORT_TYPES)


# -- JPEG and WebP: metadata cut out, the picture's bytes kept ----------------------------

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
SECRETS = (b"SecretCam", b"SECRET-COMMENT", b"SECRET-XMP", b"SECRET-THUMB", b"SECRET-TAIL")


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 0.0), 3: "E", 4: (126.0, 58.0, 0.0)}  # GPS
    return exif


def photo(kind: str, **options: Any) -> bytes:
    """A noisy picture (every pixel differs: encoding it again would show) with metadata."""
    output = io.BytesIO()
    picture = Image.effect_noise((64, 48), 60).convert(options.pop("mode", "RGB"))
    if kind == "JPEG":
        options["comment"] = b"SECRET-COMMENT"
    picture.save(output, kind, exif=gps_exif(), xmp=b"<x:xmpmeta>SECRET-XMP</x:xmpmeta>",
                 **options)  # fmt: skip
    return output.getvalue() + b"SECRET-TAIL"


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, image.size, image.tobytes()


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("JPEG", {"icc_profile": SRGB}),
        ("JPEG", {"progressive": True, "quality": 70}),
        ("JPEG", {"mode": "L", "restart_marker_blocks": 2}),
        ("WEBP", {"icc_profile": SRGB}),
        ("WEBP", {"lossless": True}),
    ],
    ids=["jpeg-icc", "jpeg-progressive", "jpeg-grey-restarts", "webp-lossy", "webp-lossless"],
)
def test_jpeg_and_webp_lose_their_metadata_but_keep_their_pixels_exactly(
    kind: str, options: dict[str, Any]
) -> None:
    original = photo(kind, **options)
    written = {b"SecretCam", b"SECRET-XMP", b"SECRET-TAIL"} | (
        {b"SECRET-COMMENT"} if kind == "JPEG" else set()
    )
    assert all(secret in original for secret in written), kind
    clean = clean_image(original, 1024 * 1024, IMPORT_TYPES)
    for secret in SECRETS:
        assert secret not in clean.data, secret
    assert pixels(clean.data) == pixels(original)  # decoded, the same: nothing encoded again
    with Image.open(io.BytesIO(clean.data)) as image:
        assert not image.getexif() and "xmp" not in image.info and "comment" not in image.info
        assert image.info.get("icc_profile") == options.get("icc_profile")
        if kind == "WEBP":  # VP8X no longer says it has EXIF or XMP
            assert clean.data[12:16] != b"VP8X" or clean.data[20] & 0x0C == 0
    # Cleaning the clean file (importing an export of it) keeps its bytes, hence its URL.
    again = clean_image(clean.data, 1024 * 1024, IMPORT_TYPES)
    assert again.data == clean.data and again.sha256 == clean.sha256


def test_a_jpeg_written_without_metadata_is_stored_as_it_is() -> None:
    output = io.BytesIO()
    Image.effect_noise((40, 30), 60).convert("RGB").save(output, "JPEG", quality=95)
    assert clean_image(output.getvalue(), 1024 * 1024).data == output.getvalue()


def test_a_jfif_thumbnail_is_dropped_and_the_jfif_header_kept() -> None:
    output = io.BytesIO()
    Image.effect_noise((40, 30), 60).convert("RGB").save(output, "JPEG")
    plain = output.getvalue()
    assert plain[2:4] == b"\xff\xe0" and plain[6:11] == b"JFIF\x00"
    header_end = 4 + int.from_bytes(plain[4:6], "big")
    # A 2 x 2 RGB thumbnail: 12 bytes of its own picture.
    app0 = plain[6:18] + b"\x02\x02" + b"SECRET-THUMB"
    with_thumbnail = plain[:4] + (len(app0) + 2).to_bytes(2, "big") + app0 + plain[header_end:]
    assert pixels(with_thumbnail) == pixels(plain)
    clean = clean_image(with_thumbnail, 1024 * 1024)
    assert clean.data == plain  # the header as it was, the thumbnail's size 0 x 0


def test_a_turned_jpeg_is_encoded_again_upright() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turned 90 degrees; without EXIF it must be upright
    output = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 80, 200)).save(output, "JPEG", exif=exif)
    clean = clean_image(output.getvalue(), 1024 * 1024)
    assert (clean.width, clean.height) == (48, 64)
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.size == (48, 64) and not image.getexif()


def test_an_animated_webp_is_still_encoded_again() -> None:
    frames = [Image.new("RGB", (20, 20), (80 * index, 40, 200)) for index in range(3)]
    output = io.BytesIO()
    frames[0].save(output, "WEBP", save_all=True, append_images=frames[1:], duration=50)
    clean = clean_image(output.getvalue(), 1024 * 1024)
    with Image.open(io.BytesIO(clean.data)) as image:
        assert not getattr(image, "is_animated", False)  # its first frame, as before


# -- inserting an image: alt text and caption escaped for each format -------------------

HOSTILE_ALTS = [
    'a "quoted" word',
    "x](javascript:alert(1)) ![y",
    "<script>alert(1)</script>",
    "a & b < c > d",
    "back\\slash ] [ *bold* _it_ `code` {: onclick=x} | # + - . !",
    "해운대 빛축제 ‘불빛 터널’",
]


@pytest.mark.parametrize("alt", HOSTILE_ALTS)
@pytest.mark.parametrize("source_format", ["markdown", "html"])
def test_an_inserted_image_keeps_its_alt_text_and_caption_exactly(
    alt: str, source_format: str
) -> None:
    from blog.content.markup import render_body

    url = "/media/" + "a" * 64 + "/%EC%82%AC%EC%A7%84.png"
    caption = "캡션: " + alt
    rendered = render_body(image_snippet(url, alt, caption, source_format), source_format)
    reader = _ImageReader()
    reader.feed(rendered)
    assert reader.images == [{"src": url, "alt": alt}], rendered
    assert caption in reader.text, rendered
    assert "<script" not in rendered and "javascript:" not in rendered.split('alt="')[0]
    if source_format == "html":
        assert rendered.startswith("<figure><img") and "<figcaption>" in rendered
    else:
        assert "<em>" in rendered


def test_without_a_caption_only_the_image_is_inserted() -> None:
    url = "/media/" + "a" * 64 + "/x.png"
    assert image_snippet(url, "사진", "", "html") == f'<img src="{url}" alt="사진">'
    assert image_snippet(url, "사진", "", "markdown") == f"![사진]({url})"


class _ImageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text += data


def test_a_used_file_is_not_deleted(app_ctx: Flask, make_post: Any) -> None:
    from blog.auth.accounts import create_user
    from blog.models import Role

    png = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(png, "PNG")
    with writing():
        editor = create_user("desk", "correct horse battery", Role.EDITOR)
    stored = upload_image(png.getvalue(), "x.png", editor.id, 1024 * 1024, "알트", "")
    assert not stored.existing and stored.media.alt == "알트"
    make_post(title="Uses it", source=f"![x]({stored.url})")
    with pytest.raises(MediaInUse) as in_use:
        delete_media(stored.media, editor)
    assert [post.title for post in in_use.value.posts] == ["Uses it"]
    assert upload_image(png.getvalue(), "y.png", editor.id, 1024 * 1024).existing
