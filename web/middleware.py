"""Plain ASGI middleware (BaseHTTPMiddleware breaks context variables and streaming)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def page_csp(form_action: Iterable[str] = ()) -> str:
    """The page policy, letting forms lead to the ``form_action`` sources as well.

    Browsers apply ``form-action`` to where a form's answer redirects too.
    """
    sources = " ".join(form_action)
    if not sources:
        return PAGE_CSP
    return PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {sources}")


def site_sources(domains: Iterable[str]) -> list[str]:
    """CSP sources for a site's domains and their subdomains, on any port."""
    return [
        f"{scheme}://{sub}{domain}:*"
        for domain in domains
        # An IPv4 address has no subdomains.
        for sub in (("",) if domain.replace(".", "").isdigit() else ("", "*."))
        for scheme in ("https", "http")
    ]


def security_headers(hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every response carries, whatever its content."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class SecurityHeaders:
    """Security headers on every response, and a strict CSP on our own pages."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.always = [(name.decode(), value.decode()) for name, value in security_headers(hsts)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.always:
                    headers.setdefault(name, value)
                content_type = headers.get("content-type", "")
                if content_type.startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", PAGE_CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)
