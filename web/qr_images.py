"""QR code images of qr steps (SVG and PNG), and what a screen showing a rotating code
asks for each time the code changes."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathFillImage
from starlette.requests import Request
from starlette.responses import Response

from contests.clock import utcnow
from contests.models import Contest, Step
from contests.steps.qr import QR
from web.links import absolute

FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
# Pixels per module of the PNG: a code of a long address still prints sharp at A4.
PNG_BOX = 16


def _code(data: str) -> qrcode.QRCode:
    # M keeps the code readable with 15% of it damaged or covered (a scuffed poster).
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def svg(data: str) -> bytes:
    image = _code(data).make_image(image_factory=SvgPathFillImage)
    rendered: bytes = image.to_string()
    return rendered


def png(data: str) -> bytes:
    code = _code(data)
    code.box_size = PNG_BOX
    buffer = BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def svg_data_uri(data: str) -> str:
    """The SVG inline in a page: images from data: are allowed by the pages' policy."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg(data)).decode()


def scan_url(request: Request, contest: Contest, step: Step, code: str) -> str:
    return absolute(request, "qr_scan", slug=contest.slug, step=step.public_id, code=code)


def screen(request: Request, contest: Contest, step: Step) -> dict[str, Any]:
    """The step's QR as it is now: its address, its image, and when it changes."""
    now = QR.screen_code(step, utcnow())
    url = scan_url(request, contest, step, now.code)
    return {"url": url, "image": svg_data_uri(url), "changes_in": now.changes_in}


def image(request: Request, contest: Contest, step: Step, kind: str) -> Response:
    """The step's QR as a file to print (a rotating code's image is only good for now)."""
    now = QR.screen_code(step, utcnow())
    url = scan_url(request, contest, step, now.code)
    body = svg(url) if kind == "svg" else png(url)
    cache = "no-store" if now.changes_in is not None else "private, max-age=3600"
    return Response(
        body,
        media_type=FORMATS[kind],
        # Nothing in our SVG runs, and nothing it could load is allowed either.
        headers={"Cache-Control": cache, "Content-Security-Policy": "default-src 'none'"},
    )


def link_image(data: str, kind: str, filename: str) -> Response:
    """The QR of one of the app's links that does not change (a participant's referral
    link), as an answer; the PNG downloads under ``filename``."""
    headers = {"Cache-Control": "private, max-age=3600"}
    if kind == "png":
        headers["Content-Disposition"] = f'attachment; filename="{filename}.png"'
    return Response(
        svg(data) if kind == "svg" else png(data), media_type=FORMATS[kind], headers=headers
    )
