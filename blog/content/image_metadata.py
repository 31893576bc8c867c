"""Metadata cut out of JPEG and WebP files without decoding them: the pictures keep their bytes.

Encoding a JPEG or WebP again loses a little each time, and gives other bytes (another
sha256, so another media URL) on every import of the same file: a Jekyll export imported
back would not have the same URLs. Both formats keep their metadata in segments (JPEG) or
chunks (WebP RIFF) of their own, apart from the compressed picture, so leaving those out
is lossless. Anything this does not understand gives None: the caller encodes it again.
"""

from __future__ import annotations

# JPEG application segments kept, by marker, with the identifier their payload starts with.
# JFIF (APP0) and Adobe (APP14) say how to decode the colours; ICC_PROFILE (APP2) says what
# they mean. Everything else (EXIF and XMP in APP1, MPF, FlashPix, IPTC in APP13, COM) goes.
_JPEG_KEPT_SEGMENTS = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
# Huffman-coded frames (baseline, extended, progressive) every browser decodes; arithmetic
# coding and lossless JPEG are encoded again instead.
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2}
_JPEG_NOT_FRAMES = {0xC4, 0xC8, 0xCC}  # DHT, JPG, DAC share the SOFn range
_JFIF_HEADER = 14  # identifier, version, units, densities, thumbnail width and height

# WebP chunks of a still image: its frame, its alpha, its colour profile and the VP8X header.
_WEBP_KEPT_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP"}
_VP8X_EXIF, _VP8X_XMP, _VP8X_ANIMATION = 0x08, 0x04, 0x02


def jpeg_without_metadata(data: bytes) -> bytes | None:
    """The JPEG with its metadata segments left out and its picture's bytes as they were.

    Kept: the tables, frame and scans, JFIF (without its thumbnail), Adobe, ICC_PROFILE.
    Dropped: every other APPn segment, comments, and anything after the end of the image
    (the extra pictures of MPF files, appended data). None when its structure is not one
    read here.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    kept = [b"\xff\xd8"]
    position, size, has_frame = 2, len(data), False
    while True:
        if position >= size or data[position] != 0xFF:
            return None
        while position < size and data[position] == 0xFF:  # fill bytes before a marker
            position += 1
        if position >= size:
            return None
        marker = data[position]
        if marker == 0xD9:  # end of image
            kept.append(b"\xff\xd9")
            return b"".join(kept) if has_frame else None
        length = int.from_bytes(data[position + 1 : position + 3], "big")
        start, end = position + 3, position + 1 + length
        if length < 2 or end > size:
            return None
        payload = data[start:end]
        position = end
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            payload = _kept_jpeg_segment(marker, payload)
            if payload is None:
                continue
        elif 0xC0 <= marker <= 0xCF and marker not in _JPEG_NOT_FRAMES:
            if marker not in _JPEG_FRAMES or payload[:1] != b"\x08":  # 8 bits a sample
                return None
            has_frame = True
        elif marker in (0x00, 0x01, 0xD8, *range(0xD0, 0xD8)):  # no segment, out of place
            return None
        kept.append(bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload)
        if marker == 0xDA:  # start of scan: its coded data runs up to the next marker
            scan_end = _jpeg_scan_end(data, position)
            if scan_end is None:
                return None
            kept.append(data[position:scan_end])
            position = scan_end


def _kept_jpeg_segment(marker: int, payload: bytes) -> bytes | None:
    identifier = _JPEG_KEPT_SEGMENTS.get(marker)
    if identifier is None or not payload.startswith(identifier):
        return None
    if marker != 0xE0:
        return payload
    if len(payload) < _JFIF_HEADER:
        return None
    # A JFIF thumbnail is a picture of its own, perhaps of what a crop took away.
    return payload[: _JFIF_HEADER - 2] + b"\x00\x00"


def _jpeg_scan_end(data: bytes, position: int) -> int | None:
    """Where a scan's entropy-coded data ends: the first 0xFF that starts a marker (not a
    stuffed 0xFF 0x00 nor a restart marker RST0-7)."""
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return None
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            position += 2
            continue
        return position


def webp_without_metadata(data: bytes) -> bytes | None:
    """A still WebP without its EXIF and XMP chunks (VP8X's flags saying so), its frame's
    bytes as they were; anything after the RIFF container goes too. None for animations
    and for files whose structure is not one read here."""
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data):
        return None
    chunks: list[bytes] = []
    position = 12
    while position < end:
        if position + 8 > end:
            return None
        name = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8], "little")
        stop = position + 8 + length + (length & 1)  # chunks are padded to even sizes
        if stop > end:
            return None
        if name in _WEBP_KEPT_CHUNKS:
            chunks.append(data[position:stop])
        position = stop
    if not chunks:
        return None
    if chunks[0][:4] == b"VP8X":
        header = chunks[0]
        if len(header) < 18 or header[8] & _VP8X_ANIMATION:
            return None
        flags = header[8] & ~(_VP8X_EXIF | _VP8X_XMP)
        chunks[0] = header[:8] + bytes((flags,)) + header[9:]
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body
