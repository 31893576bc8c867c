"""Files kept in the database (images from imports and uploads), addressed by content hash."""

from __future__ import annotations

import hashlib
import html
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit
from ..database import insert_if_absent, writing
from ..extensions import db
from ..models import Media, Post, SourceFormat, User, post_media
from .permissions import can_edit, sees_everyones_work
from .text import clean_line

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
# A comment ends at its first -->, as in XML: with <!--.*?--> each comment could also end at
# any later -->, and a file of empty comments was tried every way (exponential time).
_SVG_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*"
    rb"(?:<\?xml[^>]*>\s*|<!--(?:[^-]|-(?!->))*-->\s*|<!DOCTYPE[^>]*>\s*)*<svg[\s>]",
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


_UNSAFE_FILENAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\"'<>?#%]+")


def safe_filename(name: str) -> str:
    """A file name fit for a URL path segment: no directories, no control characters."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE_FILENAME_CHARACTERS.sub("", name).strip(" .") or "file"
    return name[:200]


def store_media(image: CleanImage, filename: str, uploaded_by_id: int | None = None) -> Media:
    """Store a cleaned image once, whatever name it arrives under; return its Media row.

    Inside `writing()`. Only a CleanImage is taken, so nothing reaches the media store
    without clean_image(). Two writers storing the same image at once both end with the one
    row: INSERT ... ON CONFLICT DO NOTHING, then select it.
    """
    if not isinstance(image, CleanImage):
        raise TypeError(f"store_media takes a CleanImage, not {type(image).__name__}")
    values = {
        "sha256": image.sha256,
        "filename": safe_filename(filename),
        "content_type": image.content_type,
        "size": len(image.data),
        "data": image.data,
        "uploaded_by_id": uploaded_by_id,
        "width": image.width,
        "height": image.height,
    }
    insert_if_absent(db.session, Media, values, unique=["sha256"])
    return db.session.execute(select(Media).where(Media.sha256 == image.sha256)).scalar_one()


def media_url(media: Media) -> str:
    """The permanent URL of a stored file: its hash makes it safe to cache for ever."""
    return media_url_for(media.sha256, media.filename)


def media_url_for(sha256: str, filename: str) -> str:
    """The URL a file will have once stored, known before the write transaction."""
    return f"{MEDIA_URL_PREFIX}{sha256}/{quote(filename)}"


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
_EXIF_ORIENTATION = 0x0112
_PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/avif": "AVIF",
}
UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
# Imports also bring AVIF and SVG (SVG only from archives: an SVG can carry script).
IMPORT_TYPES = UPLOAD_TYPES | {"image/avif", "image/svg+xml"}
_CLEANED = object()


@dataclass(frozen=True)
class CleanImage:
    """Image bytes cleaned by clean_image(): the only thing store_media() accepts."""

    data: bytes
    content_type: str
    sha256: str
    # In CSS pixels, for <img width height> (pages do not jump as images load); None when
    # the image does not say (an SVG without a size or viewBox).
    width: int | None = None
    height: int | None = None
    _made_by: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._made_by is not _CLEANED:
            raise TypeError("a CleanImage comes only from clean_image()")


def prepare_upload(data: bytes, max_bytes: int) -> CleanImage:
    """Check an uploaded image by its bytes and re-encode it without metadata.

    Raises UploadError for anything that is not a readable JPEG, PNG, WebP or GIF within
    `max_bytes`, MAX_IMAGE_PIXELS and (animations) MAX_ANIMATION_PIXELS / _FRAMES.
    Dropped: EXIF (camera, GPS position, time), XMP, comments (JPEG COM, GIF comment
    extensions), PNG text and eXIf chunks, and anything appended after the image.
    Kept: the pixels, turned upright by the EXIF orientation; the ICC colour profile (not
    for CMYK converted to RGB); transparency; a GIF's frames, their durations and its
    loop count. An upright RGB or grey JPEG and a still WebP keep their compressed bytes
    (only metadata is cut out); other JPEGs are encoded again at quality 90, other WebPs
    at Pillow's default (lossy).
    """
    return clean_image(data, max_bytes, UPLOAD_TYPES)


def clean_image(data: bytes, max_bytes: int, accept: frozenset[str] = UPLOAD_TYPES) -> CleanImage:
    """The image re-encoded with nothing in it but pictures; the one way into the store.

    Rasters are decoded (a damaged one is refused), then dropped are EXIF (camera, GPS
    position, time), XMP, IPTC, comments (JPEG COM, GIF comment extensions), PNG text chunks
    (tEXt, zTXt, iTXt) and eXIf, and anything appended after the image. Kept: the pixels
    turned upright (EXIF orientation applied), the ICC colour profile, transparency, and for
    animated GIFs each frame's duration and the loop count. Animated WebP and PNG keep their
    first frame. An upright RGB or grey JPEG and a still WebP lose only their metadata
    segments, their pictures' bytes unchanged (image_metadata.py): cleaning them again, as
    importing an export does, gives the same bytes and URL. Other rasters are encoded again
    (and lose their DPI).
    SVG (only if `accept` has it) is parsed and written again without comments, the DOCTYPE,
    <metadata> and the elements and attributes of drawing programs (Inkscape, Sodipodi,
    RDF, Creative Commons, Dublin Core, Adobe). Raises UploadError saying why it refused.
    """
    from PIL import features

    if not data:
        raise UploadError(_("The file is empty."))
    if len(data) > max_bytes:
        raise UploadError(
            _("The file is too large: at most %(mb)s MB.", mb=max_bytes // (1024 * 1024))
        )
    content_type = sniff_image_type(data)
    if content_type not in accept:
        raise _wrong_type(accept)
    if content_type == "image/svg+xml":
        clean = _clean_svg(data, max_bytes)
    elif content_type == "image/avif" and not features.check("avif"):
        # Stored as it came, it would keep its EXIF and XMP: refuse it instead.
        raise UploadError(
            _("AVIF images cannot be cleaned of their metadata here, so this one is not stored.")
        )
    else:
        clean = _clean_raster(data, content_type)
    width, height = image_size(clean, content_type) or (None, None)
    return CleanImage(clean, content_type, hashlib.sha256(clean).hexdigest(), width, height,
                      _CLEANED)  # fmt: skip


def image_size(data: bytes, content_type: str) -> tuple[int, int] | None:
    """(width, height) of a cleaned image, read from its header (or an SVG's attributes)."""
    if content_type == "image/svg+xml":
        return _svg_size(data)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[content_type]]) as image:
            return image.size  # type: ignore[no-any-return]
    except (KeyError, UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def _svg_length(value: str | None) -> float | None:
    """An SVG width or height in user units (px); None for %, em and the like."""
    value = (value or "").strip().removesuffix("px")
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0 < number < 100_000 else None


def _svg_size(data: bytes) -> tuple[int, int] | None:
    """Its width and height attributes, else its viewBox's: what a browser sizes it by."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
    width, height = _svg_length(root.get("width")), _svg_length(root.get("height"))
    if width is None or height is None:
        box = (root.get("viewBox") or "").replace(",", " ").split()
        if len(box) != 4:
            return None
        width, height = _svg_length(box[2]), _svg_length(box[3])
        if width is None or height is None:
            return None
    return max(1, round(width)), max(1, round(height))


def _clean_raster(data: bytes, content_type: str) -> bytes:
    from PIL import Image, UnidentifiedImageError

    formats = [_PILLOW_FORMATS[content_type]]
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            _check_pixels(probe.size)
            probe.verify()  # structure check; the image must be reopened after it
        with Image.open(io.BytesIO(data), formats=formats) as image:
            if content_type == "image/gif" and getattr(image, "is_animated", False):
                return _reencode_animation(image, data)
            image.load()  # every pixel decodes: a damaged file is refused here
            return _without_metadata(image, data, content_type) or _reencode_still(
                image, formats[0]
            )
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit, met before ours when the header claims billions of pixels.
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        # Pillow says "image file is truncated", "broken PNG file" and the like, in English.
        raise UploadError(_("The image is damaged or incomplete.")) from None


def _without_metadata(image: Any, data: bytes, content_type: str) -> bytes | None:
    """The file with its metadata cut out and its picture's bytes kept (image_metadata.py),
    when nothing else needs changing; None when it must be encoded again.

    Encoded again: a picture turned by its EXIF orientation (browsers would show it turned
    once its EXIF is gone), a CMYK JPEG (made RGB), an animated WebP, formats other than
    JPEG and WebP.
    """
    from .image_metadata import jpeg_without_metadata, webp_without_metadata

    if image.getexif().get(_EXIF_ORIENTATION, 1) != 1:
        return None
    if content_type == "image/jpeg" and image.mode in ("RGB", "L"):
        return jpeg_without_metadata(data)
    if content_type == "image/webp" and not getattr(image, "is_animated", False):
        return webp_without_metadata(data)
    return None


def _wrong_type(accept: frozenset[str]) -> UploadError:
    if accept == UPLOAD_TYPES:
        return UploadError(
            _("This file is not an image that can be uploaded: only JPEG, PNG, WebP and GIF.")
        )
    return UploadError(
        _("This file is not an image that can be imported: only JPEG, PNG, WebP, GIF, AVIF "
          "and SVG.")
    )  # fmt: skip


def _too_many_pixels(size: tuple[int, int] | None = None) -> UploadError:
    limit = MAX_IMAGE_PIXELS // 1_000_000
    if size is None:
        return UploadError(
            _("The image is too large: at most %(limit)s million pixels (such as 8000 × 6000).",
              limit=limit)
        )  # fmt: skip
    return UploadError(
        _("The image is too large (%(width)s × %(height)s pixels): at most %(limit)s million "
          "pixels (such as 8000 × 6000).", width=size[0], height=size[1], limit=limit)
    )  # fmt: skip


def _colour_space(mode: str) -> str:
    return {"1": "grey", "L": "grey", "LA": "grey", "I": "grey", "CMYK": "cmyk"}.get(mode, "rgb")


def _reencode_still(image: Any, pillow_format: str) -> bytes:
    from PIL import ImageOps

    icc_profile = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    mode = image.mode
    image = ImageOps.exif_transpose(image)  # upright without EXIF; a new image either way
    if pillow_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    # Savers write back what `info` holds (Pillow's JPEG writer its comment, for one):
    # empty it, so only what is named below reaches the file.
    image.info = {}
    options: dict[str, Any] = {}
    # The ICC profile says what the pixel values mean. Without it the colours of wide-gamut
    # (Display P3) phone photos shift, dull and off, in every browser; it names a colour
    # space, not a person. A profile that no longer fits the pixels (CMYK made RGB) goes.
    if icc_profile and _colour_space(image.mode) == _colour_space(mode):
        options["icc_profile"] = icc_profile
    if transparency is not None and image.mode == mode:
        options["transparency"] = transparency
    if pillow_format == "JPEG":
        options.update(quality=90, optimize=True)
    output = io.BytesIO()
    image.save(output, pillow_format, **options)
    return output.getvalue()


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse an image too large to decode, from its header, before any pixel is read."""
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_many_pixels(size)


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
            "pixels over all its frames.",
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


_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_NS = "{http://www.w3.org/1999/xlink}"
# Drawing programs' private data: document names and paths, export file names (with the
# author's home folder), layer names, licence and author blocks.
_EDITOR_NAMESPACES = (
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://www.inkscape.org/namespaces/inkscape",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://creativecommons.org/ns#",
    "http://web.resource.org/cc/",
    "http://purl.org/dc/elements/1.1/",
    "http://ns.adobe.com/",
    "adobe:ns:meta/",
)


def _is_editor_name(name: str) -> bool:
    return name.startswith("{") and name[1:].startswith(_EDITOR_NAMESPACES)


def _clean_svg(data: bytes, max_bytes: int) -> bytes:
    """The SVG parsed and written again without comments, metadata or editors' data.

    Python's expat refuses entity expansion that amplifies its input (billion laughs) and
    never reads external entities, so a hostile DOCTYPE fails to parse and is refused.
    """
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(data)  # comments, PIs and the DOCTYPE are not kept
    except ElementTree.ParseError as error:  # kept as the cause: expat's reason, for logs
        raise UploadError(_("The SVG image is damaged or incomplete.")) from error
    if root.tag != f"{_SVG_NS}svg":
        raise UploadError(_("The file is not an SVG image (it has no <svg> element)."))
    stack, uses_xlink = [root], False
    while stack:
        element = stack.pop()
        previous = None
        for child in list(element):
            tag = child.tag if isinstance(child.tag, str) else ""
            if not tag or _is_editor_name(tag) or tag.rpartition("}")[2] == "metadata":
                if child.tail:  # the text after a removed element stays
                    if previous is None:
                        element.text = (element.text or "") + child.tail
                    else:
                        previous.tail = (previous.tail or "") + child.tail
                element.remove(child)
            else:
                previous = child
                stack.append(child)
        for name in list(element.attrib):
            if _is_editor_name(name):
                del element.attrib[name]
            elif name.startswith(_XLINK_NS):
                uses_xlink = True
                element.attrib["xlink:" + name[len(_XLINK_NS) :]] = element.attrib.pop(name)
        if element.tag.startswith(_SVG_NS):
            # Unqualified names under xmlns=SVG: ElementTree's own prefixes (ns0:svg) would
            # work too, but a plain <svg> is what browsers and sniff_image_type() expect.
            element.tag = element.tag[len(_SVG_NS) :]
    declarations = {"xmlns": _SVG_NS[1:-1]}
    if uses_xlink:
        declarations["xmlns:xlink"] = _XLINK_NS[1:-1]
    attributes = {**declarations, **root.attrib}
    root.attrib.clear()
    root.attrib.update(attributes)
    try:
        clean = ElementTree.tostring(root, encoding="unicode").encode("utf-8")
    except (RecursionError, ValueError):
        raise UploadError(_("The SVG image is nested too deeply to be stored.")) from None
    if len(clean) > max_bytes:
        raise UploadError(
            _("The file is too large: at most %(mb)s MB.", mb=max_bytes // (1024 * 1024))
        )
    return clean


def media_library(viewer: User, limit: int = 200) -> list[tuple[Media, list[Post]]]:
    """The newest files the viewer may see, each with the posts using it that the viewer
    may edit: others' drafts are not named. Three queries, whatever the number of files."""
    query = (
        select(Media)
        .options(selectinload(Media.used_in).load_only(Post.id, Post.title, Post.status,
                                                         Post.author_id, Post.deleted_at))
        .order_by(Media.created_at.desc(), Media.id.desc())
        .limit(limit)
    )  # fmt: skip
    if not sees_everyones_work(viewer):
        # Their own uploads only: a file someone else uploaded (even one a writer's post now
        # shows) would give away its name, alt text and caption.
        query = query.where(Media.uploaded_by_id == viewer.id)
    return [
        (item, [post for post in item.used_in if can_edit(viewer, post)])
        for item in db.session.execute(query).scalars()
    ]


MAX_ALT_LENGTH = 500
MAX_CAPTION_LENGTH = 1000


def clean_alt(value: str) -> str:
    """Alt text as typed, one line; TextError names what is wrong with it."""
    return clean_line(value, max_length=MAX_ALT_LENGTH)


def clean_caption(value: str) -> str:
    """A caption as typed, one line; TextError names what is wrong with it."""
    return clean_line(value, max_length=MAX_CAPTION_LENGTH)


def may_change_media(user: User, media: Media) -> bool:
    """Editors and admins look after the whole library; others after what they uploaded."""
    return sees_everyones_work(user) or (
        media.uploaded_by_id is not None and media.uploaded_by_id == user.id
    )


@dataclass(frozen=True)
class StoredUpload:
    media: Media
    name: str  # the file name in the URL: the library entry's own
    url: str
    existing: bool  # the same image was in the library already: nothing new was stored
    alt: str  # what to insert: the alt text given now, else the entry's
    caption: str


def upload_image(
    data: bytes,
    filename: str,
    uploader_id: int,
    max_bytes: int,
    alt: str = "",
    caption: str = "",
) -> StoredUpload:
    """Check, clean and store an uploaded image; UploadError says why one is refused.

    `alt` and `caption` as clean_alt() and clean_caption() give them. Cleaning runs before
    the write transaction. An image already in the library (the same cleaned bytes) is not
    stored again: its entry comes back with `existing` set, under its own name and URL.
    """
    image = prepare_upload(data, max_bytes)
    found, existing = _entry_for(image.sha256), True
    if found is None:
        name = safe_filename(filename or "image")
        with writing():  # asked again inside: writers take turns, so this answer holds
            found = _entry_for(image.sha256)
            if found is None:
                found, existing = Media(
                    sha256=image.sha256, filename=name, content_type=image.content_type,
                    size=len(image.data), data=image.data, uploaded_by_id=uploader_id,
                    alt=alt, caption=caption, width=image.width, height=image.height,
                ), False  # fmt: skip
                db.session.add(found)
    if existing and not _may_know_of(uploader_id, found):
        # Someone else's file the uploader cannot see in the library: telling its name,
        # alt text or that it exists would say what others upload (an unpublished logo).
        # The same bytes are served under the uploader's own name instead.
        name = safe_filename(filename or "image")
        return StoredUpload(found, name, media_url_for(found.sha256, name), False, alt, caption)
    return StoredUpload(
        found, found.filename, media_url(found), existing,
        alt or found.alt, caption or found.caption,
    )  # fmt: skip


def _may_know_of(user_id: int, media: Media) -> bool:
    """Whether the library shows `media` to this user: their own, or they see everyone's."""
    if media.uploaded_by_id == user_id:
        return True
    user = db.session.get(User, user_id)
    return user is not None and sees_everyones_work(user)


def library_entry(url: str, viewer_id: int) -> StoredUpload | None:
    """The library entry a /media/<sha256>/<name> URL names, as an upload of it; else None.

    For a viewer who may not know of the entry (someone else's file) it keeps the URL's own
    name and gives no alt text or caption: nothing of the other uploader's shows through.
    """
    sha256, _slash, name = (
        url.removeprefix(MEDIA_URL_PREFIX).partition("/") if url.startswith(MEDIA_URL_PREFIX)
        else ("", "", "")
    )  # fmt: skip
    if len(sha256) != 64 or sha256.strip("0123456789abcdef"):
        return None
    found = _entry_for(sha256)
    if found is None:
        return None
    if not _may_know_of(viewer_id, found):
        own_name = safe_filename(unquote(name) or "image")
        return StoredUpload(found, own_name, media_url_for(sha256, own_name), False, "", "")
    return StoredUpload(found, found.filename, media_url(found), False, found.alt, found.caption)


def _entry_for(sha256: str) -> Media | None:
    return db.session.execute(select(Media).where(Media.sha256 == sha256)).scalar_one_or_none()


# Characters Python-Markdown reads as markup when they are not escaped with a backslash
# (its ESCAPED_CHARS, with the tables extension's |); < and & become entities instead.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|>])")


def markdown_text(text: str) -> str:
    """`text` as Markdown that reads back as exactly that text, markup characters escaped."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def image_snippet(url: str, alt: str, caption: str, source_format: str) -> str:
    """What inserting an image puts in a post's body: an image, and its caption if any."""
    if source_format == SourceFormat.HTML:
        image = f'<img src="{html.escape(url)}" alt="{html.escape(alt)}">'
        if not caption:
            return image
        caption_html = html.escape(caption, quote=False)
        return f"<figure>{image}<figcaption>{caption_html}</figcaption></figure>"
    image = f"![{markdown_text(alt)}]({url})"
    return f"{image}\n\n*{markdown_text(caption)}*" if caption else image


# An <img> as the sanitiser writes it (sanitize.py, nh3): each attribute a lowercase name,
# one space before it, its value in double quotes (a quote inside is &quot;).
_SANITISED_IMG = re.compile(r'<img((?: [a-z-]+="[^"]*")*)>')
_SANITISED_ATTRIBUTE = re.compile(r' ([a-z-]+)="([^"]*)"')


def sized_images(body_html: str, sizes: Mapping[str, tuple[int | None, int | None]]) -> str:
    """Sanitised HTML whose images load lazily, each stored one (its sha256 in `sizes`) with
    its width and height, so the page keeps its layout while images arrive. What the
    author wrote wins: an image with a width or height of its own keeps it. Idempotent."""
    if "<img" not in body_html:
        return body_html

    def sized(match: re.Match[str]) -> str:
        attributes = dict(_SANITISED_ATTRIBUTE.findall(match[1]))
        added = ""
        src = html.unescape(attributes.get("src", ""))
        sha256 = src[len(MEDIA_URL_PREFIX) :].partition("/")[0]
        width, height = (
            sizes.get(sha256, (None, None)) if src.startswith(MEDIA_URL_PREFIX) else (None, None)
        )
        if width and height and "width" not in attributes and "height" not in attributes:
            added += f' width="{width}" height="{height}"'
        if "loading" not in attributes:
            added += ' loading="lazy"'
        return f"<img{match[1]}{added}>"

    return _SANITISED_IMG.sub(sized, body_html)


def update_media_text(media: Media, editor: User, alt: str, caption: str) -> None:
    """Store an entry's alt text and caption (as clean_alt() and clean_caption() give them)."""
    if not may_change_media(editor, media):
        raise PermissionError("not allowed to change this file")
    with writing():
        if (media.alt, media.caption) != (alt, caption):
            audit.record(editor, "media.describe", media.filename, sha256=media.sha256)
            media.alt, media.caption = alt, caption


class MediaInUse(Exception):
    """The file is still used by posts; deleting it would leave holes in them."""

    def __init__(self, posts: list[Post]) -> None:
        super().__init__(f"used by {len(posts)} posts")
        self.posts = posts


def posts_using(media: Media) -> list[Post]:
    """Every post that uses the file, in the trash or not (a trashed post may come back)."""
    return list(
        db.session.execute(
            select(Post).join(post_media).where(post_media.c.media_id == media.id)
            .order_by(Post.id)
        ).scalars()
    )  # fmt: skip


def delete_media(media: Media, actor: User) -> None:
    """Delete a file nobody uses; MediaInUse lists the posts that still do.

    The check runs inside the write transaction, so a post saved meanwhile cannot lose it.
    """
    if not may_change_media(actor, media):
        raise PermissionError("not allowed to delete this file")
    with writing():
        using = posts_using(media)
        if using:
            raise MediaInUse(using)
        audit.record(actor, "media.delete", media.filename, sha256=media.sha256,
                     size=media.size)  # fmt: skip
        db.session.delete(media)
