"""Building blocks for tests: real rows made through the domain services."""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.routing import Router

from contests import authoring, beacon, brands, entries, frozen, lifecycle, views
from contests.authoring import ContestDraft, StepDraft
from contests.clock import utcnow
from contests.models import Brand, Contest, Entry, Marketer, MarketerRole, Participant, Step
from oauth import identities
from tests.conftest import Mailbox, eventually
from web.app import app_routes
from web.links import AppLinks

BRAND_SITE = "shop.example.com"
# The app's own links, on the tests' BASE_URL, for the emails the domain composes.
LINKS = AppLinks(Router(app_routes()), "http://testserver")


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def email(prefix: str = "person") -> str:
    return f"{unique(prefix)}@example.com"


async def brand_with_marketer(marketer_email: str | None = None) -> tuple[Brand, Marketer]:
    brand = await brands.create_brand(
        name=unique("Brand"), domains=[BRAND_SITE], reply_to="hello@shop.example.com", now=utcnow()
    )
    marketer = await brands.add_marketer(
        brand,
        marketer_email or email("marketer"),
        name="Marta",
        role=MarketerRole.OWNER,
        actor="test",
        now=utcnow(),
    )
    return brand, marketer


async def live_contest(
    brand: Brand,
    *,
    code: str = "SECRET-42",
    dwell_seconds: int = 0,
    now: datetime | None = None,
    prizes: int = 1,
    network: beacon.Network | None = None,
) -> Contest:
    """A live contest with a visit and a code step. Its draw names no beacon unless a
    ``network`` is given: tests that close and draw at once choose that explicitly."""
    now = now or utcnow()
    contest = await authoring.create_contest(
        brand,
        ContestDraft(
            title=unique("Contest"),
            description="Find the clues",
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(days=1),
            alternates=1,
        ),
        actor="test",
        now=now,
    )
    await authoring.add_prize(
        contest, name="Coffee for a year", description="", quantity=prizes, actor="test", now=now
    )
    await authoring.add_step(
        contest,
        StepDraft(
            kind="visit",
            title="Visit our origins page",
            clue="Where does the coffee come from?",
            points=2,
            settings={
                "target_url": f"https://{BRAND_SITE}/origins?ref=contest",
                "dwell_seconds": dwell_seconds,
            },
        ),
        actor="test",
        now=now,
    )
    await authoring.add_step(
        contest,
        StepDraft(
            kind="code",
            title="Find the code",
            clue="On the menu",
            points=3,
            settings={"code": code},
        ),
        actor="test",
        now=now,
    )
    await lifecycle.publish(contest, actor="test", now=now, network=network)
    return contest


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def csrf(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def link_in(mailbox: Mailbox, address: str) -> str:
    messages = mailbox.to(address)
    assert messages, f"no email to {address}"
    match = re.search(r"http://testserver(/auth/email/[\w-]+)", Mailbox.text(messages[-1]))
    assert match, "no sign-in link in the email"
    return match.group(1)


async def sign_in(
    client: httpx.AsyncClient, mailbox: Mailbox, address: str, next_path: str = "/"
) -> None:
    """Sign in the way a person does: ask for a link, open the email, press the button."""
    token = await csrf(client, f"/login?next={next_path}")
    before = len(mailbox.to(address))
    response = await client.post(
        "/login/email", data={"email": address, "csrf_token": token, "next": next_path}
    )
    assert response.status_code == 303, response.text
    await eventually(lambda: _has_mail(mailbox, address, more_than=before))
    path = link_in(mailbox, address)
    confirm = await client.get(path)
    assert confirm.status_code == 200, confirm.text
    done = await client.post(path, data={"csrf_token": csrf_of(confirm.text)})
    assert done.status_code == 303, done.text


async def _has_mail(mailbox: Mailbox, address: str, more_than: int = 0) -> bool:
    return len(mailbox.to(address)) > more_than


# Helpers for the console, visit, code, mail and model tests.


def browser(
    app: object, *, language: str | None = None, address: str | None = None
) -> httpx.AsyncClient:
    """A separate visitor with their own cookies and (unless told) their own address; use
    it with ``async with``."""
    headers = {"Accept-Language": language} if language else {}
    transport = httpx.ASGITransport(
        app=app,  # type: ignore[arg-type]
        client=(address or f"10.9.{secrets.randbelow(250)}.{secrets.randbelow(250)}", 1234),
    )
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


def page_text(response: httpx.Response) -> str:
    """The page's text with HTML entities decoded, to look for a message in it."""
    return html.unescape(response.text)


async def after_redirect(client: httpx.AsyncClient, response: httpx.Response) -> str:
    """Follow a 303 back to a page and return what it says (the flashed message included)."""
    assert response.status_code == 303, response.text
    return page_text(await client.get(response.headers["location"]))


async def answer_to(client: httpx.AsyncClient, response: httpx.Response) -> str:
    """What the person reads after sending a form: the page it sends them on to, or the
    form shown again, refused, with what they typed and the reason."""
    if response.status_code == 303:
        return await after_redirect(client, response)
    assert 400 <= response.status_code < 500, response.text
    return page_text(response)


async def participant(
    *, name: str = "", locale: str = "es", address: str | None = None
) -> Participant:
    """An account made the way a first sign-in makes it, with a verified email."""
    address = address or email("participant")
    return await identities.sign_in(
        identities.Profile(
            provider="email",
            subject=address,
            email=address,
            email_verified=True,
            display_name=name,
            locale=locale,
        ),
        locale=locale,
        now=utcnow(),
    )


async def entrant(
    contest: Contest, *, name: str = "", locale: str = "es", complete: bool = False
) -> Entry:
    """Someone who entered the contest; with ``complete`` every step is done too."""
    person = await participant(name=name, locale=locale)
    entry = await entries.enter(contest, person, consented=True, locale=locale, now=utcnow())
    if complete:
        for step in await Step.filter(contest=contest):
            await entries.record_completion(entry, step, utcnow(), links=LINKS)
    return entry


async def draft_contest(brand: Brand, *, title: str | None = None) -> Contest:
    """A draft with no prize and no step yet."""
    now = utcnow()
    return await authoring.create_contest(
        brand,
        ContestDraft(
            title=title or unique("Draft"),
            description="",
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(days=1),
        ),
        actor="test",
        now=now,
    )


async def step_of(contest: Contest, kind: str) -> Step:
    return await Step.filter(contest=contest, kind=kind).order_by("position", "id").first()  # type: ignore[return-value]


async def frozen_list(contest: Contest) -> list[tuple[str, int]]:
    """The contest's frozen list as published: (pseudonym, weight) in published order."""
    return [line async for batch in frozen.batches(contest.id) for line in batch]


async def published_certificate(contest: Contest) -> dict[str, Any]:
    """The certificate exactly as a participant downloads it."""
    text = "".join([piece async for piece in await views.certificate(contest)])
    certificate: dict[str, Any] = json.loads(text)
    return certificate


async def enter_on_the_web(
    client: httpx.AsyncClient, mailbox: Mailbox, contest: Contest, *, name: str = ""
) -> Entry:
    """Sign in and take part the way a person does, from the contest page."""
    address = email("player")
    await sign_in(client, mailbox, address, f"/c/{contest.slug}")
    if name:
        await Participant.filter(email=address).update(display_name=name)
    response = await client.post(
        f"/c/{contest.slug}/enter",
        data={"csrf_token": await csrf(client, f"/c/{contest.slug}"), "consent": "yes"},
    )
    assert response.status_code == 303, response.text
    return await Entry.get(contest=contest, participant__email=address).prefetch_related(
        "participant"
    )


@asynccontextmanager
async def marketer_console(
    app: object, mailbox: Mailbox, address: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as ``address``, reading English."""
    async with browser(app, language="en") as visitor:
        await sign_in(visitor, mailbox, address)
        yield visitor


async def brand_and_marketer_address() -> tuple[Brand, str]:
    """A brand, and the address its marketer signs in with."""
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    return brand, address


@asynccontextmanager
async def player(
    app: object, mailbox: Mailbox, contest: Contest, *, language: str = "en", address: str = ""
) -> AsyncIterator[httpx.AsyncClient]:
    """Someone signed in (in their own browser) who has entered the contest."""
    async with browser(app, language=language, address=address or None) as client:
        await enter_on_the_web(client, mailbox, contest)
        yield client


def step_html(page: str, step: Step) -> str:
    """The part of the contest page about one step, entities left as they are."""
    match = re.search(rf'<li [^>]*id="step-{re.escape(step.public_id)}".*?</li>', page, re.S)
    assert match, f"step {step.public_id} is not on the page"
    return match.group(0)


async def added_step(contest: Contest, kind: str, settings: dict[str, str], **draft: Any) -> Step:
    """A step of ``kind`` added to the contest the way the console adds it."""
    return await authoring.add_step(
        contest,
        StepDraft(kind=kind, title=draft.pop("title", f"A {kind}"), settings=settings, **draft),
        actor="test",
        now=utcnow(),
    )
