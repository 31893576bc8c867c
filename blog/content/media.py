"""Files kept in the database (images from imports and uploads), addressed by content hash."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
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


MAX_IMAGE_PIXELS = 50_000_000
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
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    if len(data) > max_bytes:
        raise UploadError(_("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    content_type = sniff_image_type(data)
    if content_type not in _PILLOW_FORMATS:
        raise UploadError(_("Only JPEG, PNG, WebP and GIF images can be uploaded."))
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()  # structure check; the image must be reopened after it
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if content_type == "image/gif" and getattr(image, "is_animated", False):
                frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
                output = io.BytesIO()
                timing = {"loop": image.info.get("loop", 0), "duration": image.info.get("duration")}
                frames[0].save(output, "GIF", save_all=True, append_images=frames[1:], **timing)
                return output.getvalue(), content_type
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
    ) as error:
        raise UploadError(_("The image could not be read (%(error)s).", error=error)) from None


def media_usage(media: Media) -> list[Post]:
    """Posts whose body or feature image use the file."""
    needle = f"{MEDIA_URL_PREFIX}{media.sha256}/"
    return list(
        db.session.execute(
            select(Post).where(Post.source.contains(needle) | Post.feature_image.contains(needle))
        ).scalars()
    )
