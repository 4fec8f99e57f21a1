"""A brand's look on participant pages: its uploaded images and its colour, served from
this app so that the pages' strict CSP (no inline style) holds."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from contests import media
from contests.errors import N_, NotFound
from contests.models import Brand
from web.state import app_state

# Content-named files never change: cache them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


async def media_file(request: Request) -> Response:
    name = request.path_params["file"]
    found = media.path_of(app_state(request).settings.media_dir, name)
    if found is None:
        raise NotFound(N_("There is no such image."), "media_not_found")
    ext = name.rsplit(".", 1)[1]
    return FileResponse(
        found,
        media_type=media.CONTENT_TYPES[ext],
        headers={
            "Cache-Control": IMMUTABLE,
            "X-Content-Type-Options": "nosniff",
            # Even opened on its own, an image may run nothing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


async def brand_style(request: Request) -> Response:
    """The brand's colour as CSS custom properties the page's stylesheet uses."""
    colour = await (
        Brand.filter(slug=request.path_params["brand"]).first().values_list("colour", flat=True)
    )
    if colour is None:
        raise NotFound(N_("There is no such brand."), "brand_not_found")
    # Saved colours are "#rrggbb" checked on the way in; an empty one keeps ours.
    css = f":root{{--accent:{colour};}}\n" if colour else ""
    return Response(
        css,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


routes = [
    Route("/media/{file:str}", media_file, name="media"),
    Route("/look/{brand:slug}.css", brand_style, name="brand_style"),
]
