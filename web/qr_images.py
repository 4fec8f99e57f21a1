"""QR codes of the app's own links, as SVG (to show and print at any size) or PNG (to
download and paste anywhere)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from starlette.responses import Response

MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def qr_image(data: str, image_format: str) -> bytes:
    """The QR code of ``data`` in ``image_format`` ("svg" or "png"), quiet zone included."""
    if image_format == "svg":
        svg = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage)
        return bytes(svg.to_string())
    buffer = io.BytesIO()
    qrcode.make(data, box_size=10).save(buffer, format="PNG")
    return buffer.getvalue()


def qr_response(data: str, image_format: str, filename: str) -> Response:
    """The QR code as an answer; the PNG downloads under ``filename``."""
    headers = {"Cache-Control": "private, max-age=3600"}
    if image_format == "png":
        headers["Content-Disposition"] = f'attachment; filename="{filename}.png"'
    return Response(
        qr_image(data, image_format), media_type=MEDIA_TYPES[image_format], headers=headers
    )
