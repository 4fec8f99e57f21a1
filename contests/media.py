"""Images people upload (a brand's logo): the type read from the bytes, never from the
name; decoded and written again so that nothing but pixels is kept; stored under
MEDIA_DIR with a name made from their content."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from contests.errors import N_, InvalidInput

# What the bytes start with, for each format accepted. SVG is refused: it is a document
# that can carry scripts, and sanitising it well is a project of its own.
_SIGNATURES: tuple[tuple[str, str, str], ...] = (
    ("png", "PNG", "image/png"),
    ("jpg", "JPEG", "image/jpeg"),
    ("webp", "WEBP", "image/webp"),
)
CONTENT_TYPES = {ext: content_type for ext, _, content_type in _SIGNATURES}
NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg|webp)")
# A logo is shown small; larger images are scaled down before they are kept.
LARGEST_SIDE = 1024
# Pillow's guard against decompression bombs, made an error instead of a warning.
MAX_PIXELS = 40_000_000


def sniff(data: bytes) -> str | None:
    """The extension of the image format the bytes are in, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _refused() -> InvalidInput:
    return InvalidInput(
        N_("The logo must be a PNG, JPEG or WebP image (SVG is not accepted)."),
        "bad_image",
    )


def clean_image(data: bytes, max_bytes: int) -> tuple[bytes, str]:
    """The image decoded and encoded again (metadata dropped, scaled to at most
    LARGEST_SIDE pixels a side) and its extension; InvalidInput for anything else."""
    if len(data) > max_bytes:
        raise InvalidInput(
            N_("The logo is too large: at most %(size)s KB."),
            "image_too_large",
            size=max_bytes // 1024,
        )
    ext = sniff(data)
    if ext is None:
        raise _refused()
    fmt = next(f for e, f, _ in _SIGNATURES if e == ext)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise _refused()
                image.load()
                image.thumbnail((LARGEST_SIDE, LARGEST_SIDE))
                pixels: Image.Image = image
                if fmt == "JPEG" and image.mode not in ("RGB", "L"):
                    pixels = image.convert("RGB")
                out = io.BytesIO()
                pixels.save(out, format=fmt)
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise _refused() from None
    return out.getvalue(), ext


def store(media_dir: Path, data: bytes, ext: str) -> str:
    """Write the image under ``media_dir`` and return its name (its content's hash)."""
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{ext}"
    media_dir.mkdir(parents=True, exist_ok=True)
    target = media_dir / name
    if not target.exists():
        # Written whole or not at all: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=media_dir, suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    return name


def path_of(media_dir: Path, name: str) -> Path | None:
    """The file of a stored image, or None for any name this module did not make."""
    if NAME.fullmatch(name) is None:
        return None
    target = media_dir / name
    return target if target.is_file() else None
