"""Files kept in the database (images from imports and uploads), addressed by content hash."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Media, Post

MEDIA_URL_PREFIX = "/media/"

# Raster formats browsers show, plus SVG. SVG can carry script: <img> never runs it, and
# media responses carry a CSP sandbox (MEDIA_CSP) so opening one directly cannot run it either.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"ftypavif", 4, "image/avif"),
)


MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_SVG_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]",
    re.S | re.I,
)


def sniff_image_type(data: bytes) -> str | None:
    """The image type the bytes really are (never what the file name says)."""
    for signature, offset, content_type in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            if content_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return content_type
    if _SVG_START.match(data[:4096]):
        return "image/svg+xml"
    return None


def safe_filename(name: str) -> str:
    """A file name fit for a URL path segment: no directories, no control characters."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f\"'<>?#%]+", "", name).strip(" .") or "file"
    return name[:200]


def store_media(
    data: bytes, filename: str, content_type: str, uploaded_by_id: int | None = None
) -> Media:
    """Store `data` once, whatever name it arrives under; return its Media row."""
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.execute(select(Media).where(Media.sha256 == digest)).scalar_one_or_none()
    if existing is not None:
        return existing
    media = Media(
        sha256=digest,
        filename=safe_filename(filename),
        content_type=content_type,
        size=len(data),
        data=data,
        uploaded_by_id=uploaded_by_id,
    )
    db.session.add(media)
    return media


def media_url(media: Media) -> str:
    """The permanent URL of a stored file: its hash makes it safe to cache for ever."""
    return f"{MEDIA_URL_PREFIX}{media.sha256}/{quote(media.filename)}"


class UploadError(ValueError):
    """An upload we refuse; the message says why, for the person uploading."""


# Width x height of one image. Pillow's own MAX_IMAGE_PIXELS only warns above its limit and
# refuses at twice it, and warnings filters are process-global: we check the size ourselves.
MAX_IMAGE_PIXELS = 50_000_000
# An animation decodes every frame: a 28 KB GIF can hold 20 frames of 4000 x 4000 pixels
# (320 M pixels, gigabytes once decoded). Width x height x frames is bounded, and so is the
# number of frames, since each costs time to decode and re-encode however small it is.
MAX_ANIMATION_PIXELS = 32_000_000
MAX_ANIMATION_FRAMES = 1_000
# What a GIF frame keeps besides its pixels: timing and transparency, never comments.
_GIF_KEPT = ("duration", "transparency", "background")
_PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}


def prepare_upload(data: bytes, max_bytes: int) -> tuple[bytes, str]:
    """Check an uploaded image by its bytes and re-encode it without metadata.

    Returns (clean bytes, content type). Raises UploadError for anything that is not a
    readable JPEG, PNG, WebP or GIF of reasonable size. Re-encoding drops EXIF (camera,
    GPS position), comments and anything appended to the file.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > max_bytes:
        raise UploadError(_("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    content_type = sniff_image_type(data)
    if content_type not in _PILLOW_FORMATS:
        raise UploadError(_("Only JPEG, PNG, WebP and GIF images can be uploaded."))
    formats = [_PILLOW_FORMATS[content_type]]
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            _check_pixels(probe.size)
            probe.verify()  # structure check; the image must be reopened after it
        with Image.open(io.BytesIO(data), formats=formats) as image:
            if content_type == "image/gif" and getattr(image, "is_animated", False):
                return _reencode_animation(image, data), content_type
            image.load()
            image = ImageOps.exif_transpose(image)  # keep the photo upright without EXIF
            output = io.BytesIO()
            options: dict[str, object] = {}
            if content_type == "image/jpeg":
                options = {"quality": 90, "optimize": True}
                if image.mode not in ("RGB", "L"):
                    image = image.convert("RGB")
            image.save(output, _PILLOW_FORMATS[content_type], **options)
            return output.getvalue(), content_type
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        if isinstance(error, UploadError):
            raise
        raise UploadError(_("The image could not be read (%(error)s).", error=error)) from None


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse an image too large to decode, from its header, before any pixel is read."""
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise UploadError(
            _(
                "The image is %(width)s × %(height)s pixels; at most %(limit)s million pixels "
                "are accepted.",
                width=width,
                height=height,
                limit=MAX_IMAGE_PIXELS // 1_000_000,
            )
        )


def _reencode_animation(image: Any, data: bytes) -> bytes:
    """Re-encode an animated GIF frame by frame, once its size is known to be bounded.

    Pillow's GIF writer keeps each frame it has read (to merge unchanged ones), so the
    memory is bounded by MAX_ANIMATION_PIXELS; nothing here keeps copies of its own.
    """
    width, height = image.size
    max_frames = min(MAX_ANIMATION_FRAMES, MAX_ANIMATION_PIXELS // max(1, width * height))
    if max_frames < 2 or _count_gif_frames(data, stop_after=max_frames + 1) > max_frames:
        raise _animation_too_large()
    from PIL import ImageSequence

    def frames() -> Iterator[Any]:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= max_frames:  # Pillow found more frames than we counted
                raise _animation_too_large()
            copy = frame.copy()  # decodes this one frame; the writer keeps what it needs
            copy.info = {key: frame.info[key] for key in _GIF_KEPT if key in frame.info}
            yield copy

    sequence = frames()
    first = next(sequence)
    output = io.BytesIO()
    # Each frame keeps its own duration and transparency; the loop count is the file's.
    loop = {"loop": image.info["loop"]} if "loop" in image.info else {}
    first.save(output, "GIF", save_all=True, append_images=sequence, **loop)
    return output.getvalue()


def _animation_too_large() -> UploadError:
    return UploadError(
        _(
            "The animation is too large: at most %(frames)s frames and %(limit)s million "
            "pixels over all its frames are accepted.",
            frames=MAX_ANIMATION_FRAMES,
            limit=MAX_ANIMATION_PIXELS // 1_000_000,
        )
    )


def _count_gif_frames(data: bytes, stop_after: int) -> int:
    """Frames in a GIF, counted from its block structure without decoding any of them.

    Stops counting at `stop_after`, so a file of a million tiny frames costs no more than
    one of `stop_after`. Unknown bytes between blocks are skipped, as Pillow skips them.
    """

    def skip_sub_blocks(position: int) -> int:
        while position < len(data):
            length = data[position]
            position += 1 + length
            if length == 0:
                break
        return position

    frames = 0
    position = 13  # header (6) and logical screen descriptor (7)
    if len(data) > 10 and data[10] & 0x80:
        position += 3 << ((data[10] & 7) + 1)  # global colour table
    while position < len(data) and frames < stop_after:
        block = data[position]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then data sub-blocks
            position = skip_sub_blocks(position + 2)
        elif block == 0x2C:  # image descriptor: one frame
            frames += 1
            packed = data[position + 9] if position + 9 < len(data) else 0
            position += 10
            if packed & 0x80:
                position += 3 << ((packed & 7) + 1)  # local colour table
            position = skip_sub_blocks(position + 1)  # LZW minimum code size, then data
        else:
            position += 1
    return frames


def media_usage(media: Media) -> list[Post]:
    """Posts whose body or feature image use the file."""
    needle = f"{MEDIA_URL_PREFIX}{media.sha256}/"
    return list(
        db.session.execute(
            select(Post).where(Post.source.contains(needle) | Post.feature_image.contains(needle))
        ).scalars()
    )
