"""Hostile values in every field of every form and JSON endpoint: each is refused with a
4xx, or sent back to its form with a message, never a 500, on SQLite and PostgreSQL;
nothing already saved changes; and no answer carries a cookie grown by what was sent.

ENDPOINTS lists every form and JSON endpoint with the fields it reads; to cover a new
one, add it there. Each endpoint is also sent its plain values once, to show that what
was refused was the hostile value and not the rest of the form.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from contests import authoring, entries
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.models import (
    Answer,
    AuditLog,
    Brand,
    Completion,
    Contest,
    Entry,
    Evidence,
    EvidenceStatus,
    Marketer,
    Outbox,
    Participant,
    Prize,
    SignInLink,
    Step,
)
from contests.settings import Settings
from contests.steps.visit import visit_link_token
from tests.conftest import Mailbox, eventually
from tests.factories import (
    BRAND_SITE,
    brand_with_marketer,
    browser,
    csrf,
    draft_contest,
    email,
    live_contest,
    sign_in,
    step_of,
)
from tests.support.flows import app_with

# bytes are sent as they are: "%C3%28" reaches the parser as escaped invalid UTF-8,
# b"\xc3\x28" as raw invalid UTF-8.
Value = str | bytes
Values = Mapping[str, Value]

BASIC: Values = {
    "NUL": "Ana\x00López",
    "control characters": "Ana\x1b[2J\x07López",
    "C1 control characters": "Ana\x85\x9bLópez",
    "100k characters": "x" * 100_000,
    "invalid UTF-8, escaped": b"Ana%C3%28%FF",
    "invalid UTF-8, raw": b"Ana\xc3\x28\xff",
}
LINE: Values = {**BASIC, "line break": "Ana\r\nBcc: victim@example.com", "tab": "Ana\tLópez"}
NAME: Values = {**LINE, "direction override": "Ana\u202egnp.exe", "zero width": "A\u200bna"}
EMAIL: Values = {**NAME, "header injection": "ana@example.com\r\nBcc: victim@example.com"}
MALFORMED_URLS: Values = {
    "unclosed bracket": f"http://[{BRAND_SITE}/",
    "backslash": f"http://evil.example\\.{BRAND_SITE}/",
    "full-width slash": f"https://{BRAND_SITE}\uff0f@evil.example/",
    "user info": f"https://{BRAND_SITE}@evil.example/",
    "other scheme": f"javascript://{BRAND_SITE}/%0aalert(1)",
}
URL: Values = {**LINE, **MALFORMED_URLS}
# No client or server takes an address over 64 KB: a path gets the longest one it could.
PATH: Values = {**LINE, "100k characters": "x" * 60_000}
DOMAINS: Values = {
    **BASIC,
    **MALFORMED_URLS,
    "wildcard": f"*.{BRAND_SITE}",
    "300-character label": "a" * 300 + ".example.com",
}
# Whole bodies for the JSON endpoints, whatever their fields.
BODIES: Mapping[str, bytes] = {
    "nested JSON": b"[" * 2000 + b"]" * 2000,
    "nested JSON in a field": b'{"token": ' + b"[" * 1500 + b"]" * 1500 + b', "page": ""}',
    "invalid UTF-8": b'{"token": "\xc3\x28\xff", "page": "\xff"}',
    "lone surrogates": b'{"token": "\\ud800", "page": "https://\\udfff.example.com/"}',
    "100k characters": b'{"token": "' + b"x" * 100_000 + b'"}',
}
# What an opinion must not be, besides what no text may hold.
OPINIONS: Values = {
    **BASIC,
    "HTML": "<script>alert(1)</script> what a coffee",
    "too short": "ok",
    "blank": " \r\n\t ",
}
CODE = "SECRET-42"
PLAIN_URL = f"https://{BRAND_SITE}/origins?ref=contest"


@dataclass(frozen=True)
class Endpoint:
    name: str
    who: str  # "anyone", "participant" or "marketer"
    path: str  # filled in from the world: {brand}, {draft}, {live}, ...
    fields: Mapping[str, Values]  # every field it reads, with the values to try in it
    plain: Callable[[World], dict[str, str]]  # values it accepts
    page: str = ""  # where the form is, and where a refusal may send the browser back
    sends: str = "form"  # "form", "json" or "get" (a token in the path, an Origin header)
    # Whether its plain values save something: not for a GET, and deleting the account
    # is not tried (the other endpoints need it).
    saves: bool = True


# The participant's step form: its address and its one field.
STEP_FORM = "/c/{live}/steps/{code_step}"
STEP_FIELD = "code"
CONTEST_PAGE = "/console/{brand}/contests/{draft}"

ENDPOINTS = [
    # "next" is left out: it is not kept as sent, anything but a local path becomes "/".
    Endpoint(
        "sign in", "anyone", "/login/email", {"email": EMAIL},
        lambda w: {"email": email("hostile")}, page="/login",
    ),
    Endpoint(
        "profile", "participant", "/me/profile", {"display_name": NAME, "locale": LINE},
        lambda w: {"display_name": "Ana López", "locale": "en"}, page="/me",
    ),
    Endpoint(
        "delete account", "participant", "/me/delete", {"confirm": LINE},
        lambda w: {"confirm": "yes"}, page="/me", saves=False,
    ),
    Endpoint(
        "brand domains", "marketer", "/console/{brand}/domains", {"domains": DOMAINS},
        lambda w: {"domains": f"{BRAND_SITE}\nwww.{BRAND_SITE}"}, page="/console/{brand}",
    ),
    Endpoint(
        "invite", "marketer", "/console/{brand}/team", {"email": EMAIL, "name": NAME},
        lambda w: {"email": email("invited"), "name": "Inés"}, page="/console/{brand}",
    ),
    Endpoint(
        "new contest", "marketer", "/console/{brand}/contests",
        {
            "title": LINE, "description": BASIC, "starts_at": LINE, "ends_at": LINE,
            "timezone": LINE, "alternates": LINE,
        },
        lambda w: {
            "title": "Summer", "description": "Find\r\nthe clues", "starts_at": "2030-01-01T10:00",
            "ends_at": "2030-02-01T10:00", "timezone": "Europe/Madrid", "alternates": "1",
        },
        page="/console/{brand}/contests/new",
    ),
    Endpoint(
        "prize", "marketer", CONTEST_PAGE + "/prizes",
        {"name": LINE, "description": BASIC, "quantity": LINE},
        lambda w: {"name": "A mug", "description": "Blue\r\nand big", "quantity": "2"},
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "visit step", "marketer", CONTEST_PAGE + "/steps",
        {
            "kind": LINE, "title": LINE, "clue": BASIC, "points": LINE, "target_url": URL,
            "dwell_seconds": LINE, "pages": LINE, "proof": LINE, "unlocks_after": LINE,
        },
        lambda w: {
            "kind": "visit", "title": "Our shops", "clue": "Where?\r\nLook.", "points": "1",
            "target_url": PLAIN_URL, "dwell_seconds": "0", "pages": "section",
            "proof": "click", "unlocks_after": str(w.draft_step),
        },
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "code step", "marketer", CONTEST_PAGE + "/steps",
        {"title": LINE, "clue": BASIC, "code": LINE},
        lambda w: {"kind": "code", "title": "The menu", "clue": "Read it", "code": "MENU-7"},
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "qr step", "marketer", CONTEST_PAGE + "/steps",
        {"title": LINE, "clue": BASIC, "rotate_seconds": LINE},
        lambda w: {"kind": "qr", "title": "The poster", "clue": "Near", "rotate_seconds": "30"},
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "quiz step", "marketer", CONTEST_PAGE + "/steps",
        {
            "title": LINE, "question": LINE, "answer_mode": LINE, "choice_1": LINE,
            "right_1": LINE, "max_attempts": LINE,
        },
        lambda w: {
            "kind": "quiz", "title": "The days", "question": "Which days do we roast?",
            "choice_1": "Tuesdays", "right_1": "on", "choice_2": "Sundays", "max_attempts": "2",
        },
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "typed quiz step", "marketer", CONTEST_PAGE + "/steps",
        {"accepted": BASIC},
        lambda w: {
            "kind": "quiz", "title": "Who", "question": "Who picks it?", "answer_mode": "text",
            "accepted": "Doña Marleny\r\nMarleny",
        },
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "opinion step", "marketer", CONTEST_PAGE + "/steps",
        {"question": LINE, "min_length": LINE, "max_length": LINE},
        lambda w: {
            "kind": "opinion", "title": "Tell us", "question": "What should we roast?",
            "min_length": "5", "max_length": "300",
        },
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "referral step", "marketer", CONTEST_PAGE + "/steps",
        {"title": LINE, "clue": BASIC, "max_referrals": LINE},
        lambda w: {"kind": "referral", "title": "Friends", "clue": "Bring", "max_referrals": "5"},
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "share step", "marketer", CONTEST_PAGE + "/steps",
        {"title": LINE, "clue": BASIC, "message": LINE},
        lambda w: {"kind": "share", "title": "Share it", "clue": "Tell", "message": "Come & play"},
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "referral leaderboard", "marketer", CONTEST_PAGE + "/leaderboard", {"shown": LINE},
        lambda w: {"shown": "on"}, page=CONTEST_PAGE,
    ),
    Endpoint(
        "edit step", "marketer", CONTEST_PAGE + "/steps/{draft_step}",
        {"title": LINE, "clue": BASIC},
        lambda w: {"title": "Our origins, again", "clue": "Look\r\nagain"},
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "step settings", "marketer", CONTEST_PAGE + "/steps/{draft_step}/settings",
        {
            "title": LINE, "clue": BASIC, "points": LINE, "required": LINE,
            "unlocks_after": LINE, "target_url": URL, "dwell_seconds": LINE, "pages": LINE,
            "proof": LINE,
        },
        lambda w: {
            "title": "Our origins", "clue": "Where?\r\nLook.", "points": "2", "required": "on",
            "target_url": PLAIN_URL, "dwell_seconds": "3", "pages": "page", "proof": "snippet",
        },
        page=CONTEST_PAGE,
    ),
    Endpoint(
        "move step", "marketer", CONTEST_PAGE + "/steps/{draft_step}/move", {"direction": LINE},
        lambda w: {"direction": "down"}, page=CONTEST_PAGE,
    ),
    Endpoint(
        "end", "marketer", CONTEST_PAGE + "/end", {"ends_at": LINE},
        lambda w: {"ends_at": "2031-01-01T10:00"}, page=CONTEST_PAGE,
    ),
    Endpoint(
        "enter", "participant", "/c/{other}/enter", {"consent": LINE},
        lambda w: {"consent": "yes"}, page="/c/{other}",
    ),
    Endpoint(
        "step", "participant", STEP_FORM, {STEP_FIELD: LINE},
        lambda w: {STEP_FIELD: CODE}, page="/c/{live}",
    ),
    Endpoint(
        "opinion", "participant", "/c/{live}/steps/{opinion_step}", {"answer": OPINIONS},
        lambda w: {"answer": "More decaf,\r\nplease."}, page="/c/{live}",
    ),
    Endpoint(
        "beacon", "anyone", "/api/beacon", {"token": LINE, "page": URL, "Origin": URL},
        lambda w: {"token": w.visit_token, "page": PLAIN_URL, "Origin": f"https://{BRAND_SITE}"},
        sends="json",
    ),
    Endpoint(
        "visit info", "anyone", "/api/visits/{token}", {"token": PATH, "Origin": URL},
        lambda w: {"token": w.visit_token, "Origin": f"https://{BRAND_SITE}"},
        sends="get", saves=False,
    ),
    Endpoint(
        "visit status", "anyone", "/api/visits/{token}/status", {"token": PATH, "Origin": URL},
        lambda w: {"token": w.visit_token, "Origin": f"https://{BRAND_SITE}"},
        sends="get", saves=False,
    ),
]  # fmt: skip

# Generous limits: every hostile value must reach the code that reads it.
LIMITS = {
    "sign_in_limit": "100000/minute",
    "code_attempt_limit": "100000/minute",
    "step_client_limit": "100000/minute",
    "beacon_limit": "100000/minute",
    "visit_status_limit": "100000/minute",
}


@dataclass
class World:
    """A brand with a draft and two live contests, a marketer and a participant signed in
    in their own browsers, and a stranger."""

    app: Starlette
    clients: dict[str, httpx.AsyncClient]
    brand: Brand
    people: list[int]
    draft: int
    draft_step: int
    live: str
    other: str
    code_step: str
    opinion_step: str
    visit_token: str
    csrf: dict[str, str] = field(default_factory=dict)  # each browser's form token

    def fill(self, template: str, **extra: str) -> str:
        return template.format(
            brand=self.brand.slug,
            draft=self.draft,
            draft_step=self.draft_step,
            live=self.live,
            other=self.other,
            code_step=self.code_step,
            opinion_step=self.opinion_step,
            **extra,
        )


@pytest.fixture(scope="module")
async def world(settings: Settings, worker: Any, mailbox: Mailbox) -> AsyncIterator[World]:
    async with app_with(settings.model_copy(update=LIMITS), {}) as app:
        marketer_address, participant_address = email("marketer"), email("participant")
        brand, _ = await brand_with_marketer(marketer_address)
        draft = await draft_contest(brand)
        first = await authoring.add_step(
            draft,
            StepDraft(kind="visit", title="Our origins", settings={"target_url": PLAIN_URL}),
            actor="test",
            now=utcnow(),
        )
        live, other = await live_contest(brand, code=CODE), await live_contest(brand)
        async with (
            browser(app, language="en") as marketer,
            browser(app, language="en") as participant,
            browser(app, language="en") as stranger,
        ):
            await sign_in(marketer, mailbox, marketer_address)
            await sign_in(participant, mailbox, participant_address)
            person = await Participant.get(email=participant_address)
            colleague = await Participant.get(email=marketer_address)
            entry = await entries.enter(live, person, consented=True, locale="en", now=utcnow())
            visit = await step_of(live, "visit")
            tokens = app.state.gymkana.tokens
            step_link = await participant.get(f"/go/{visit_link_token(tokens, entry, visit)}")
            code_step = await step_of(live, "code")
            opinion = await authoring.add_step(
                live,
                StepDraft(kind="opinion", title="Tell us", settings={"question": "What else?"}),
                actor="test",
                now=utcnow(),
            )
            yield World(
                app=app,
                clients={"marketer": marketer, "participant": participant, "anyone": stranger},
                brand=brand,
                people=[person.id, colleague.id],
                draft=draft.id,
                draft_step=first.id,
                live=live.slug,
                other=other.slug,
                code_step=code_step.public_id,
                opinion_step=opinion.public_id,
                visit_token=parse_qs(urlsplit(step_link.headers["location"]).query)["gk"][0],
            )


async def _saved(world: World) -> dict[str, Any]:
    """Everything the endpoints could change."""
    brand_id = world.brand.id
    of_brand: dict[str, Any] = {"contest__brand_id": brand_id}
    return {
        "brand": await Brand.filter(id=brand_id).values(),
        "marketers": await Marketer.filter(brand_id=brand_id).order_by("id").values(),
        "contests": await Contest.filter(brand_id=brand_id).order_by("id").values(),
        "prizes": await Prize.filter(**of_brand).order_by("id").values(),
        "steps": await Step.filter(**of_brand).order_by("id").values(),
        "entries": await Entry.filter(**of_brand).order_by("id").values(),
        "completions": await Completion.filter(entry__contest__brand_id=brand_id).count(),
        "visits": await Evidence.filter(entry__contest__brand_id=brand_id).count(),
        "answers": await Answer.filter(entry__contest__brand_id=brand_id)
        .order_by("id")
        .values("text", "attempts", "updated_at"),
        "people": await Participant.filter(id__in=world.people).order_by("id").values(),
        "audit": await AuditLog.filter(brand_id=brand_id).count(),
        "sign-in links": await SignInLink.all().count(),
        "outbox": await Outbox.all().count(),
    }


async def _worker_done(world: World) -> None:
    """Wait for the worker's verdict on a reported visit, so that it changes nothing
    while the next endpoint is tried."""

    async def done() -> bool:
        pending = Evidence.filter(
            entry__contest__brand_id=world.brand.id, status=EvidenceStatus.PENDING
        )
        return not await pending.exists()

    await eventually(done)


def _form_body(values: Values) -> bytes:
    return b"&".join(
        quote_plus(name).encode() + b"=" + (v if isinstance(v, bytes) else quote_plus(v).encode())
        for name, v in values.items()
    )


def _json_body(values: Values) -> bytes:
    body = json.dumps({k: v for k, v in values.items() if isinstance(v, str)}).encode()
    for name, value in values.items():
        if isinstance(value, bytes):
            body = body[:-1] + b", " + json.dumps(name).encode() + b': "' + value + b'"}'
    return body


def _header(value: Value) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


async def _send(
    world: World, endpoint: Endpoint, values: Values, body: bytes | None = None
) -> httpx.Response:
    client = world.clients[endpoint.who]
    fields = dict(values)
    headers = {b"Origin": _header(fields.pop("Origin"))} if "Origin" in fields else {}
    if endpoint.sends == "get":
        token = fields.pop("token")
        path = world.fill(endpoint.path, token=quote(token, safe=""))
        return await client.get(path, headers=headers)
    path = world.fill(endpoint.path)
    if endpoint.sends == "json":
        headers[b"Content-Type"] = b"text/plain;charset=UTF-8"
        return await client.post(path, content=body or _json_body(fields), headers=headers)
    if endpoint.who not in world.csrf:
        world.csrf[endpoint.who] = await csrf(client, world.fill(endpoint.page))
    headers[b"Content-Type"] = b"application/x-www-form-urlencoded"
    body = _form_body({"csrf_token": world.csrf[endpoint.who], **fields})
    return await client.post(path, content=body, headers=headers)


async def _not_refused(world: World, endpoint: Endpoint, response: httpx.Response) -> str:
    """Why this answer is not a proper refusal; empty when it is one."""
    status = response.status_code
    if len(response.headers.get("set-cookie", "")) > 4096:
        return f"a {len(response.headers['set-cookie'])}-byte cookie"
    if endpoint.sends == "get" and status < 500:
        if "access-control-allow-origin" in response.headers:
            return "another site may read the answer"
        return ""
    if 400 <= status < 500:
        return ""
    if status == 303 and endpoint.page:
        location = response.headers["location"]
        if urlsplit(location).path != urlsplit(world.fill(endpoint.page)).path:
            return f"303 to {location}"
        shown = await world.clients[endpoint.who].get(location)
        return "" if "flash flash-error" in shown.text else f"303 to {location} without a message"
    return f"HTTP {status}: {response.text[:200]!r}"


def _tries(endpoint: Endpoint, world: World) -> list[tuple[str, Values, bytes | None]]:
    plain = endpoint.plain(world)
    tries: list[tuple[str, Values, bytes | None]] = [
        (f"{field} = {label}", {**plain, field: value}, None)
        for field, values in endpoint.fields.items()
        for label, value in values.items()
    ]
    if endpoint.sends == "json":
        tries += [(f"body = {label}", plain, body) for label, body in BODIES.items()]
    return tries


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
async def test_hostile_values_are_refused_and_change_nothing(
    world: World, endpoint: Endpoint
) -> None:
    saved = await _saved(world)
    problems = []
    for label, values, body in _tries(endpoint, world):
        response = await _send(world, endpoint, values, body)
        if why := await _not_refused(world, endpoint, response):
            problems.append(f"{label}: {why}")
        elif await _saved(world) != saved:
            problems.append(f"{label}: something saved changed")
            saved = await _saved(world)
    assert not problems, f"{endpoint.name}:\n" + "\n".join(problems)

    # The same endpoint with its plain values works: the hostile values were refused.
    if endpoint.saves:
        response = await _send(world, endpoint, endpoint.plain(world))
        assert response.status_code in (202, 303), response.text[:500]
        assert await _saved(world) != saved
        await _worker_done(world)
    elif endpoint.sends == "get":
        response = await _send(world, endpoint, endpoint.plain(world))
        assert response.status_code == 200, response.text[:500]
        assert response.headers["access-control-allow-origin"] == f"https://{BRAND_SITE}"
