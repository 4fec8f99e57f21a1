"""Real images for the tests of logos and posters, made with Pillow."""

from __future__ import annotations

import io

from PIL import Image

from contests import media
from contests.settings import Settings


def png(size: tuple[int, int] = (40, 20), colour: tuple[int, int, int] = (120, 30, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def stored_logo(settings: Settings, size: tuple[int, int] = (40, 20)) -> str:
    """A logo kept under the app's MEDIA_DIR the way an upload is; its name."""
    cleaned, ext = media.clean_image(png(size), settings.media_max_bytes)
    return media.store(settings.media_dir, cleaned, ext)
