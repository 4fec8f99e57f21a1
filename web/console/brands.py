"""The brand in the console: the list of one's brands and a new one, the brand's page,
its domains and look (OWNER), and its team (OWNER)."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import audit, brands, jobs, media
from contests.brands import brands_of, invite_marketer, team, update_domains
from contests.clock import utcnow
from contests.errors import N_
from contests.models import Contest, MarketerRole
from web import forms
from web.console.access import OWNER, VIEWER, actor, role_for
from web.links import links
from web.queue import enqueue
from web.rendering import page, path, redirect
from web.session import checked_form, checked_upload, flash, request_locale, require_viewer
from web.snippet.routes import snippet_tag
from web.state import app_state

ROLE_CHOICES = (MarketerRole.VIEWER, MarketerRole.EDITOR, MarketerRole.OWNER)


async def console_home(request: Request) -> Response:
    participant = await require_viewer(request)
    mine = await brands_of(participant)
    may_create = await brands.may_create_brands(participant)
    # One brand: straight to it, unless the owner asked for the form of a new one.
    if len(mine) == 1 and "new" not in request.query_params:
        return redirect(path(request, "console_brand", brand=mine[0].slug))
    return await page(request, "console/brands.html", brands=mine, may_create=may_create)


async def _logo(request: Request, form: FormData) -> str | None:
    """The uploaded logo stored under MEDIA_DIR and its name, or None when none was sent."""
    upload = form.get("logo")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    settings = app_state(request).settings
    data = await upload.read(settings.media_max_bytes + 1)
    if not data:
        return None
    cleaned, ext = media.clean_image(data, settings.media_max_bytes)
    return media.store(settings.media_dir, cleaned, ext)


def _domains(form: FormData) -> list[str]:
    return forms.text(form, "domains", 2000, multiline=True).replace(",", "\n").splitlines()


async def create_brand(request: Request) -> Response:
    participant = await require_viewer(request)
    # Refused before the file is read, on a page of its own: the form is not theirs.
    await brands.check_may_create_brands(participant)
    request.state.back = path(request, "console") + "?new#new-brand"
    form = await checked_upload(request, app_state(request).settings.media_max_bytes)
    try:
        brand = await brands.create_brand_for(
            participant,
            name=forms.text(form, "name", 120),
            domains=_domains(form),
            reply_to=forms.text(form, "reply_to", 254),
            colour=forms.text(form, "colour", 16),
            logo=await _logo(request, form) or "",
            now=utcnow(),
        )
    finally:
        await form.close()
    flash(request, N_("Brand created. Install the snippet on its site next."), "success")
    return redirect(path(request, "console_brand", brand=brand.slug))


async def brand_home(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contests = await Contest.filter(brand=role.brand).order_by("-id")
    return await page(
        request,
        "console/brand.html",
        brand=role.brand,
        role=role,
        roles=ROLE_CHOICES,
        may_own=role.role.allows(OWNER),
        contests=contests,
        snippet=snippet_tag(request),
        app_origin=app_state(request).settings.origin,
        audit_log=await audit.page_of(role.brand, limit=10),
        team=await team(role.brand),
        max_logo_kb=app_state(request).settings.media_max_bytes // 1024,
    )


def _brand_page(request: Request, anchor: str = "") -> str:
    return path(request, "console_brand", brand=request.path_params["brand"]) + anchor


async def save_domains(request: Request) -> Response:
    role = await role_for(request, OWNER)
    request.state.back = _brand_page(request, "#domains")
    form = await checked_form(request)
    await update_domains(role.brand, _domains(form), actor=actor(role), now=utcnow())
    flash(request, N_("Domains saved."), "success")
    return redirect(_brand_page(request, "#domains"))


async def save_look(request: Request) -> Response:
    role = await role_for(request, OWNER)
    request.state.back = _brand_page(request, "#look")
    form = await checked_upload(request, app_state(request).settings.media_max_bytes)
    try:
        logo = await _logo(request, form)
    finally:
        await form.close()
    if logo is None and forms.checkbox(form, "remove_logo"):
        logo = ""
    await brands.update_look(
        role.brand,
        colour=forms.text(form, "colour", 16),
        logo=logo,
        actor=actor(role),
        now=utcnow(),
    )
    flash(request, N_("The brand's look is saved."), "success")
    return redirect(_brand_page(request, "#look"))


def _role(form: FormData) -> MarketerRole:
    # An invitation without a role makes an editor, as invitations always did.
    return brands.parse_role(forms.text(form, "role", 8) or MarketerRole.EDITOR.value)


async def invite(request: Request) -> Response:
    role = await role_for(request, OWNER)
    request.state.back = _brand_page(request, "#team")
    form = await checked_form(request)
    marketer, message = await invite_marketer(
        role.brand,
        forms.text(form, "email", 254),
        name=forms.person_name(form, "name", 120),
        role=_role(form),
        invited_by=role,
        links=links(request),
        locale=request_locale(request),
        now=utcnow(),
    )
    await enqueue(request, jobs.SEND_EMAIL, message.id)
    flash(
        request,
        N_("%(email)s is invited: we have emailed them how to sign in."),
        "success",
        email=marketer.email,
    )
    return redirect(_brand_page(request, "#team"))


async def change_role(request: Request) -> Response:
    role = await role_for(request, OWNER)
    request.state.back = _brand_page(request, "#team")
    form = await checked_form(request)
    member = await brands.change_role(
        role.brand,
        request.path_params["member"],
        _role(form),
        actor=actor(role),
        now=utcnow(),
    )
    flash(request, N_("%(email)s's role is changed."), "success", email=member.email)
    return redirect(_brand_page(request, "#team"))


async def remove_member(request: Request) -> Response:
    role = await role_for(request, OWNER)
    request.state.back = _brand_page(request, "#team")
    await checked_form(request)
    member = await brands.remove_marketer(
        role.brand, request.path_params["member"], actor=actor(role), now=utcnow()
    )
    flash(
        request,
        N_("%(email)s is no longer on the team."),
        "success",
        email=member.email,
    )
    if member.id == role.id:
        return redirect(path(request, "console"))
    return redirect(_brand_page(request, "#team"))


async def save_time_zone(request: Request) -> Response:
    """Each marketer's own preference: any role may set it."""
    role = await role_for(request, VIEWER)
    back = path(request, "console_audit", brand=request.path_params["brand"])
    request.state.back = back
    form = await checked_form(request)
    await brands.set_time_zone(role, forms.text(form, "time_zone", 64))
    flash(request, N_("Times are now shown in %(zone)s."), "success", zone=role.time_zone)
    return redirect(back)


async def save_signature(request: Request) -> Response:
    """Each marketer's own name under their replies: any role may set it."""
    role = await role_for(request, VIEWER)
    request.state.back = _brand_page(request, "#signature")
    form = await checked_form(request)
    await brands.set_signature(role, forms.person_name(form, "name", 120))
    flash(request, N_("Your replies are now signed “%(name)s”."), "success", name=role.name)
    return redirect(_brand_page(request, "#signature"))


MEMBER = "/console/{brand:slug}/team/{member:rowid}"

routes = [
    Route("/console", console_home, name="console"),
    Route("/console", create_brand, methods=["POST"], name="console_create_brand"),
    Route("/console/{brand:slug}", brand_home, name="console_brand"),
    Route(
        "/console/{brand:slug}/signature",
        save_signature,
        methods=["POST"],
        name="console_save_signature",
    ),
    Route(
        "/console/{brand:slug}/domains", save_domains, methods=["POST"], name="console_save_domains"
    ),
    Route("/console/{brand:slug}/look", save_look, methods=["POST"], name="console_save_look"),
    Route("/console/{brand:slug}/team", invite, methods=["POST"], name="console_invite"),
    Route(MEMBER + "/role", change_role, methods=["POST"], name="console_change_role"),
    Route(MEMBER + "/remove", remove_member, methods=["POST"], name="console_remove_member"),
    Route(
        "/console/{brand:slug}/time-zone",
        save_time_zone,
        methods=["POST"],
        name="console_save_time_zone",
    ),
]
