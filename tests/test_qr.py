"""QR steps: a printed code or a rotating one on a screen, scanned with the phone.

Opening the scan page records nothing; its one button completes the step through the
step form. A rotating code is good for a moment, so scanning it gives a claim that
outlives it, long enough to sign in and enter. Every refusal says why, in the person's
language, and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from contests import authoring, entries
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.errors import InvalidInput, NotAllowed, NotFound
from contests.models import Completion, Contest, Entry, Participant, SignInLink, Step
from contests.steps import completion, qr
from contests.steps.qr import CLAIM_SECONDS, QR
from tests.conftest import Mailbox
from tests.factories import (
    LINKS,
    after_redirect,
    answer_to,
    brand_with_marketer,
    browser,
    csrf,
    csrf_of,
    email,
    entrant,
    live_contest,
    page_text,
    participant,
    sign_in,
    step_of,
)
from web import qr_images

PERIOD = 30


async def _qr_contest(*, rotate: int = 0, locked: bool = False) -> tuple[Contest, Step]:
    """A live contest (a visit and a code step) with a qr step added at the end."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    step = await _add_qr(contest, rotate=rotate, locked=locked)
    return contest, step


async def _add_qr(contest: Contest, *, rotate: int = 0, locked: bool = False) -> Step:
    after = (await step_of(contest, "code")).id if locked else None
    return await authoring.add_step(
        contest,
        StepDraft(
            kind="qr",
            title="The shop's poster",
            points=2,
            unlocks_after=after,
            settings={"rotate_seconds": str(rotate) if rotate else ""},
        ),
        actor="test",
        now=utcnow(),
    )


def _scan_path(contest: Contest, step: Step, code: str) -> str:
    return f"/c/{contest.slug}/qr/{step.public_id}/{code}"


async def _done(entry: Entry) -> set[int]:
    return {c.step_id for c in await Completion.filter(entry=entry)}  # type: ignore[attr-defined]


def _period(now: datetime | None = None) -> int:
    return int((now or utcnow()).timestamp()) // PERIOD


# --- The codes, at the domain's level, with the clock pinned --------------------------


async def test_each_step_gets_a_secret_of_its_own_that_the_form_cannot_set(
    database_url: str,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    first, second = await _add_qr(contest), await _add_qr(contest, rotate=PERIOD)
    forced = QR.configure(brand, "x", {"rotate_seconds": "", "secret": "0" * 64})
    assert len({first.config["secret"], second.config["secret"], forced["secret"]}) == 3
    assert forced["secret"] != "0" * 64
    assert first.config["rotate_seconds"] == 0 and second.config["rotate_seconds"] == PERIOD
    assert QR.printed_code(first) != QR.printed_code(second)


async def test_a_printed_code_stays_the_same_and_never_expires(database_url: str) -> None:
    contest, step = await _qr_contest()
    entry = await entrant(contest)
    later = utcnow() + timedelta(hours=20)
    assert QR.screen_code(step, utcnow()) == QR.screen_code(step, later)
    assert QR.check(step, QR.printed_code(step), later, entry.public_id).expires_at is None
    assert await completion.submit(
        entry, step, {"proof": QR.printed_code(step)}, later, links=LINKS
    )


async def test_a_rotating_code_is_good_for_its_period_and_the_ones_beside_it(
    database_url: str,
) -> None:
    _, step = await _qr_contest(rotate=PERIOD)
    now = utcnow()
    period = _period(now)
    for near in (period - 1, period, period + 1):
        proof = QR.check(step, QR.rotating_code(step, near), now, None)
        # What the page carries on is a claim, not the code that is about to change.
        assert "." in proof.code and proof.expires_at == datetime.fromtimestamp(
            int(now.timestamp()) + CLAIM_SECONDS, now.tzinfo
        )
    with pytest.raises(InvalidInput) as old:
        QR.check(step, QR.rotating_code(step, period - 2), now, None)
    assert old.value.code == "qr_changed"
    with pytest.raises(InvalidInput) as printed:
        QR.check(step, QR.printed_code(step), now, None)
    assert printed.value.code == "qr_invalid"


async def test_a_claim_outlives_the_rotating_code_until_its_own_end(database_url: str) -> None:
    contest, step = await _qr_contest(rotate=PERIOD)
    scanned_at = utcnow()
    code = QR.screen_code(step, scanned_at).code
    # Scanned signed out: the claim is for whoever signs in with it.
    claim = (await qr.scan(contest, step.public_id, code, None, scanned_at)).proof.code
    entry = await entrant(contest)
    finished_at = scanned_at + timedelta(minutes=20)
    with pytest.raises(InvalidInput):
        QR.check(step, code, finished_at, entry.public_id)
    assert await completion.submit(entry, step, {"proof": claim}, finished_at, links=LINKS)
    assert await _done(entry) == {step.id}


async def test_an_expired_claim_is_refused_and_records_nothing(database_url: str) -> None:
    contest, step = await _qr_contest(rotate=PERIOD)
    entry = await entrant(contest)
    code_step = await step_of(contest, "code")
    await entries.record_completion(entry, code_step, utcnow(), links=LINKS)
    scanned_at = utcnow() - timedelta(seconds=CLAIM_SECONDS + 1)
    claim = QR.claim(step, scanned_at)
    with pytest.raises(InvalidInput) as refused:
        await completion.submit(entry, step, {"proof": claim}, utcnow(), links=LINKS)
    assert refused.value.code == "qr_claim_expired"
    assert await _done(entry) == {code_step.id}


async def test_a_claim_made_for_one_entry_serves_no_other(database_url: str) -> None:
    contest, step = await _qr_contest(rotate=PERIOD)
    scanner, other = await entrant(contest), await entrant(contest)
    await scanner.fetch_related("participant")
    now = utcnow()
    code = QR.screen_code(step, now).code
    scanned = await qr.scan(contest, step.public_id, code, scanner.participant, now)
    with pytest.raises(NotAllowed) as refused:
        await completion.submit(other, step, {"proof": scanned.proof.code}, now, links=LINKS)
    assert refused.value.code == "qr_not_yours"
    assert await _done(other) == set()
    # Someone signed in without an entry cannot use it either; signed out, nobody can tell.
    stranger = await participant()
    with pytest.raises(NotAllowed):
        await qr.scan(contest, step.public_id, scanned.proof.code, stranger, now)
    assert await qr.scan(contest, step.public_id, scanned.proof.code, None, now)
    assert await completion.submit(scanner, step, {"proof": scanned.proof.code}, now, links=LINKS)


@pytest.mark.parametrize("rotate", [0, PERIOD])
async def test_a_tampered_code_or_claim_is_refused(database_url: str, rotate: int) -> None:
    contest, step = await _qr_contest(rotate=rotate)
    entry = await entrant(contest)
    now = utcnow()
    good = QR.printed_code(step) if not rotate else QR.claim(step, now)
    issued, _, mac = good.partition(".")
    tampered = [
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        good.upper(),
        good + "x",
        "",
        "ñ" * 10,
        "x" * 10_000,
        # A claim moved to a later time keeps its signature, which no longer matches.
        f"{int(issued) + 600}.{mac}" if rotate else good[::-1],
        # A claim given someone's entry.
        good.replace("..", f".{entry.public_id}.") if rotate else good[1:],
        # The same moment written otherwise.
        "0" + good,
    ]
    for code in tampered:
        with pytest.raises(InvalidInput) as refused:
            await completion.submit(entry, step, {"proof": code}, now, links=LINKS)
        assert refused.value.code == "qr_invalid", code
    assert await _done(entry) == set()


async def test_a_code_of_another_step_or_another_contest_is_refused(database_url: str) -> None:
    contest, step = await _qr_contest()
    sibling = await _add_qr(contest)
    _, foreign = await _qr_contest()
    entry = await entrant(contest)
    code_step = await step_of(contest, "code")
    await entries.record_completion(entry, code_step, utcnow(), links=LINKS)
    for other in (sibling, foreign):
        with pytest.raises(InvalidInput):
            await completion.submit(
                entry, step, {"proof": QR.printed_code(other)}, utcnow(), links=LINKS
            )
    # A step of another contest is not found under this one at all.
    with pytest.raises(NotFound):
        await qr.scan(contest, foreign.public_id, QR.printed_code(foreign), None, utcnow())
    assert await _done(entry) == {code_step.id}


# --- The scan page, through the app ---------------------------------------------------


@asynccontextmanager
async def _player(
    app: Any, mailbox: Mailbox, contest: Contest, *, enter: bool = True, language: str = "en"
) -> AsyncIterator[tuple[httpx.AsyncClient, Entry | None]]:
    """A signed-in participant in their own browser, entered unless told otherwise."""
    address = email("scanner")
    async with browser(app, language=language) as player:
        await sign_in(player, mailbox, address, f"/c/{contest.slug}")
        if enter:
            response = await player.post(
                f"/c/{contest.slug}/enter",
                data={"csrf_token": await csrf(player, f"/c/{contest.slug}"), "consent": "yes"},
            )
            assert response.status_code == 303
        person = await Participant.get(email=address)
        yield player, await Entry.filter(contest=contest, participant=person).first()


async def test_scanning_signed_in_shows_one_button_and_only_pressing_it_completes(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step = await _qr_contest()
    async with _player(app, mailbox, contest) as (player, entry):
        assert entry is not None
        landing = await player.get(_scan_path(contest, step, QR.printed_code(step)))
        assert landing.status_code == 200
        assert landing.headers["cache-control"] == "no-store"
        text = page_text(landing)
        assert "You found “The shop's poster”" in text and "worth 2 points" in text
        forms = re.findall(r'<form method="post" action="([^"]+)"', landing.text)
        assert forms == ["/logout", f"/c/{contest.slug}/steps/{step.public_id}"]
        assert await _done(entry) == set(), "opening the scan page recorded something"

        proof = re.search(r'name="proof" value="([^"]+)"', landing.text)
        assert proof is not None
        response = await player.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": csrf_of(landing.text), "proof": proof.group(1)},
        )
        assert response.headers["location"] == f"/c/{contest.slug}#step-{step.public_id}-feedback"
        assert "Well found! “The shop's poster” is done." in await after_redirect(player, response)
        assert await _done(entry) == {step.id}
        again = await player.get(_scan_path(contest, step, QR.printed_code(step)))
        assert "You have already done this step." in page_text(again)
        assert "scan-complete" not in again.text


async def test_the_button_without_the_csrf_token_records_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step = await _qr_contest()
    async with _player(app, mailbox, contest) as (player, entry):
        response = await player.post(
            f"/c/{contest.slug}/steps/{step.public_id}", data={"proof": QR.printed_code(step)}
        )
        assert "This form has expired" in await after_redirect(player, response)
    assert entry is not None and await _done(entry) == set()


async def test_scanning_signed_out_a_rotating_code_leads_through_sign_in_and_entering_back(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step = await _qr_contest(rotate=PERIOD)
    address = email("newcomer")
    async with browser(app, language="en") as visitor:
        scanned = await visitor.get(_scan_path(contest, step, QR.screen_code(step, utcnow()).code))
        # The rotating code is exchanged for a claim, which the address carries from now on.
        assert scanned.status_code == 303
        claim_path = scanned.headers["location"]
        assert claim_path.startswith(f"/c/{contest.slug}/qr/{step.public_id}/")
        landing = await visitor.get(claim_path)
        text = page_text(landing)
        assert "Sign in to take part. You will come back to this page" in text
        assert "This scan stays good for 30 more minutes." in text
        sign_in_link = re.search(r'href="(/login\?next=[^"]+)" data-testid="scan-sign-in"', text)
        assert sign_in_link is not None
        assert parse_qs(urlsplit(sign_in_link.group(1)).query)["next"] == [claim_path]

        # Signing in ends on the same page, without scanning again.
        await sign_in(visitor, mailbox, address, claim_path)
        link = await SignInLink.filter(email=address).order_by("-id").first()
        assert link is not None and link.next_path == claim_path
        offered = await visitor.get(claim_path)
        assert "take part in the contest first" in page_text(offered)
        enter = re.search(r'action="(/c/[^"]+/enter\?next=[^"]+)"', offered.text)
        assert enter is not None
        entered = await visitor.post(
            enter.group(1), data={"csrf_token": csrf_of(offered.text), "consent": "yes"}
        )
        assert entered.headers["location"] == claim_path
        ready = await visitor.get(claim_path)
        assert "You're in" in page_text(ready)
        proof = re.search(r'name="proof" value="([^"]+)"', ready.text)
        assert proof is not None and proof.group(1) == claim_path.rsplit("/", 1)[1]
        done = await visitor.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": csrf_of(ready.text), "proof": proof.group(1)},
        )
        assert "is done" in await after_redirect(visitor, done)
    entry = await Entry.get(contest=contest, participant__email=address)
    assert await _done(entry) == {step.id}


async def test_a_claim_older_than_the_rotating_code_still_finishes_the_step(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    """Signing in took twenty minutes: the code on the screen changed forty times."""
    contest, step = await _qr_contest(rotate=PERIOD)
    claim = QR.claim(step, utcnow() - timedelta(minutes=20))
    async with _player(app, mailbox, contest) as (player, entry):
        landing = await player.get(_scan_path(contest, step, claim))
        assert "This scan stays good for 10 more minutes." in page_text(landing)
        response = await player.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": csrf_of(landing.text), "proof": claim},
        )
        assert "is done" in await after_redirect(player, response)
    assert entry is not None and await _done(entry) == {step.id}


async def test_entering_on_the_way_goes_back_only_to_a_page_of_this_site(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step = await _qr_contest()
    here = _scan_path(contest, step, QR.printed_code(step))
    async with _player(app, mailbox, contest, enter=False) as (player, _entry):
        token = await csrf(player, f"/c/{contest.slug}")
        # A refusal (no consent) is said on the page that offered entering.
        refused = await player.post(
            f"/c/{contest.slug}/enter?next={here}", data={"csrf_token": token}
        )
        assert refused.headers["location"] == here
        assert "accept the contest rules" in await after_redirect(player, refused)
        response = await player.post(
            f"/c/{contest.slug}/enter?next=//evil.example/x",
            data={"csrf_token": token, "consent": "yes"},
        )
        assert response.headers["location"] == f"/c/{contest.slug}#steps-feedback"


REFUSALS = {
    # name: (what the page says, its status)
    "another step": ("This QR code is not valid for this step", 422),
    "another contest": ("This QR code is not one of this contest's steps.", 404),
    "tampered": ("This QR code is not valid for this step", 422),
    "old rotating code": ("This QR code has changed since it was shown", 422),
    "expired claim": ("Too much time has passed since you scanned this QR code.", 422),
    "closed contest": ("This contest is not open right now.", 409),
    "locked step": ("This step is still locked: finish the step before it first.", 403),
}


async def _refused_scan(name: str) -> tuple[Contest, Step, str]:
    """A contest, its qr step, and the scan address that the refusal ``name`` is about."""
    contest, step = await _qr_contest(rotate=PERIOD, locked=name == "locked step")
    now = utcnow()
    code = QR.claim(step, now)
    if name == "another step":
        code = QR.claim(await _add_qr(contest, rotate=PERIOD), now)
    elif name == "another contest":
        _, step = await _qr_contest(rotate=PERIOD)
        code = QR.claim(step, now)
    elif name == "tampered":
        code = code[:-2] + ("xy" if not code.endswith("xy") else "yx")
    elif name == "old rotating code":
        code = QR.rotating_code(step, _period() - 3)
    elif name == "expired claim":
        code = QR.claim(step, now - timedelta(seconds=CLAIM_SECONDS + 5))
    return contest, step, _scan_path(contest, step, code)


@pytest.mark.parametrize("name", list(REFUSALS))
async def test_a_refused_scan_says_why_and_changes_nothing(
    app: Any, worker: Any, mailbox: Mailbox, name: str
) -> None:
    contest, step, scan_path = await _refused_scan(name)
    message, status = REFUSALS[name]
    visit_step = await step_of(contest, "visit")
    async with _player(app, mailbox, contest) as (player, entry):
        assert entry is not None
        await entries.record_completion(entry, visit_step, utcnow(), links=LINKS)
        if name == "closed contest":
            contest.ends_at = utcnow() - timedelta(seconds=1)
            await contest.save(update_fields=["ends_at"])
        landing = await player.get(scan_path)
        assert landing.status_code == status, landing.text
        assert message in page_text(landing)
        assert 'data-testid="scan-problem"' in landing.text and "scan-complete" not in landing.text
        # The button's form, sent anyway with what the address holds, is refused too.
        response = await player.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": csrf_of(landing.text), "proof": scan_path.rsplit("/", 1)[1]},
        )
        assert "flash flash-error" in await after_redirect(player, response)
        assert await _done(entry) == {visit_step.id}
    assert await Entry.filter(contest=contest).count() == 1


async def test_the_scan_page_speaks_the_persons_language(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step = await _qr_contest()
    async with browser(app, language="es-ES,es;q=0.9") as visitor:
        landing = await visitor.get(_scan_path(contest, step, QR.printed_code(step)))
        text = page_text(landing)
        assert '<html lang="es">' in landing.text
        assert "Has encontrado «The shop's poster»" in text
        assert "Entra para terminar este paso" in text
        refused = await visitor.get(_scan_path(contest, step, "nope"))
        assert "Este código QR no vale para este paso" in page_text(refused)
        english = await visitor.get(_scan_path(contest, step, QR.printed_code(step)) + "?lang=en")
        assert "Sign in to finish this step" in page_text(english)


@pytest.mark.parametrize("code", ["%00", "%C3%28", "x" * 5000, "..", "1.2.3", "%E2%80%AE", "a%2Fb"])
async def test_a_hostile_code_in_the_address_is_a_4xx_page(
    client: httpx.AsyncClient, code: str
) -> None:
    contest, step = await _qr_contest(rotate=PERIOD)
    response = await client.get(f"/c/{contest.slug}/qr/{step.public_id}/{code}")
    assert 400 <= response.status_code < 500, response.text[:300]


async def test_the_contest_page_tells_an_entrant_to_scan(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, _ = await _qr_contest()
    async with _player(app, mailbox, contest) as (player, _entry):
        page = page_text(await player.get(f"/c/{contest.slug}"))
    assert "Scan this step's QR code with your phone's camera" in page
    assert "/demo/qr" not in page, "the demo's page is only offered in the demo"


# --- The console: images to print, the screen -----------------------------------------


@asynccontextmanager
async def _marketer(
    app: Any, mailbox: Mailbox
) -> AsyncIterator[tuple[httpx.AsyncClient, Contest, Step, Step]]:
    """The brand's marketer signed in, and a live contest with a printed and a rotating code."""
    brand, marketer = await brand_with_marketer()
    contest = await live_contest(brand)
    await contest.fetch_related("brand")
    printed, rotating = await _add_qr(contest), await _add_qr(contest, rotate=PERIOD)
    async with browser(app, language="en") as client:
        await sign_in(client, mailbox, marketer.email)
        yield client, contest, printed, rotating


def _step_path(contest: Contest, step: Step, rest: str) -> str:
    brand = contest.brand.slug
    return f"/console/{brand}/contests/{contest.id}/steps/{step.id}/{rest}"


async def test_the_console_shows_a_printed_qr_with_its_downloads_and_a_screen_link(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _marketer(app, mailbox) as (client, contest, printed, rotating):
        page = (await client.get(f"/console/{contest.brand.slug}/contests/{contest.id}")).text
        assert f'src="{_step_path(contest, printed, "qr.svg")}"' in page
        assert f'href="{_step_path(contest, printed, "qr.png")}" download=' in page
        assert f'href="{_step_path(contest, rotating, "screen")}"' in page
        assert rotating.config["secret"] not in page and printed.config["secret"] not in page

        scan_url = "http://testserver" + _scan_path(contest, printed, QR.printed_code(printed))
        svg = await client.get(_step_path(contest, printed, "qr.svg"))
        assert svg.headers["content-type"] == "image/svg+xml"
        assert svg.headers["content-security-policy"] == "default-src 'none'"
        assert svg.content == qr_images.svg(scan_url), "the image encodes the step's address"
        png = await client.get(_step_path(contest, printed, "qr.png"))
        assert png.headers["content-type"] == "image/png"
        assert png.content == qr_images.png(scan_url)


async def test_the_screen_shows_a_rotating_code_that_refreshes_with_or_without_script(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _marketer(app, mailbox) as (client, contest, _, rotating):
        screen = await client.get(_step_path(contest, rotating, "screen"))
        assert screen.status_code == 200
        refresh = re.search(
            r'<noscript><meta http-equiv="refresh" content="(\d+)"></noscript>', screen.text
        )
        assert refresh is not None and 1 <= int(refresh.group(1)) <= PERIOD
        assert 'src="/static/qr-screen.js"' in screen.text
        assert f'data-qr-live="{_step_path(contest, rotating, "screen.json")}"' in screen.text
        assert "script-src 'self'" in screen.headers["content-security-policy"]

        now = (await client.get(_step_path(contest, rotating, "screen.json"))).json()
        assert now["image"].startswith("data:image/svg+xml;base64,")
        assert 1 <= now["changes_in"] <= PERIOD
        assert now["url"].startswith("http://testserver" + f"/c/{contest.slug}/qr/")
        # The address on the screen is one a phone can open now.
        async with browser(app) as phone:
            opened = await phone.get(urlsplit(now["url"]).path)
            assert opened.status_code == 303
            assert (await phone.get(opened.headers["location"])).status_code == 200
        assert (await client.get("/static/qr-screen.js")).status_code == 200


async def test_qr_images_and_screens_are_the_brands_marketers_only(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _marketer(app, mailbox) as (_, contest, printed, rotating):
        pass
    paths = [
        _step_path(contest, printed, "qr.svg"),
        _step_path(contest, printed, "qr.png"),
        _step_path(contest, rotating, "screen"),
        _step_path(contest, rotating, "screen.json"),
    ]
    other_brand, other_marketer = await brand_with_marketer()
    async with browser(app) as anonymous, browser(app) as stranger:
        await sign_in(stranger, mailbox, other_marketer.email)
        for path in paths:
            assert (await anonymous.get(path)).headers["location"].startswith("/login?next=")
            assert (await stranger.get(path)).status_code == 404
            # The brand's slug swapped for the stranger's own changes nothing.
            theirs = path.replace(
                f"/console/{contest.brand.slug}/", f"/console/{other_brand.slug}/"
            )
            assert (await stranger.get(theirs)).status_code == 404


async def test_a_step_that_is_not_a_qr_has_no_image(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _marketer(app, mailbox) as (client, contest, _, _):
        code_step = await step_of(contest, "code")
        assert (await client.get(_step_path(contest, code_step, "qr.svg"))).status_code == 404


async def test_the_demo_page_of_qr_codes_exists_only_in_the_demo(client: httpx.AsyncClient) -> None:
    assert (await client.get("/demo/qr")).status_code == 404


async def test_a_marketer_adds_a_qr_step_from_the_console_and_a_wrong_period_is_refused(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    async with _marketer(app, mailbox) as (client, contest, _, _):
        console = f"/console/{contest.brand.slug}/contests/{contest.id}"
        token = await csrf(client, console)
        form = {"csrf_token": token, "kind": "qr", "title": "The tasting", "points": "1"}
        refused = await client.post(f"{console}/steps", data={**form, "rotate_seconds": "5"})
        assert "A rotating code changes every 10 to 600 seconds" in await answer_to(client, refused)
        assert not await Step.filter(contest=contest, title="The tasting").exists()
        added = await client.post(f"{console}/steps", data={**form, "rotate_seconds": "45"})
        assert "Step added." in await after_redirect(client, added)
    step = await Step.get(contest=contest, title="The tasting")
    assert step.kind == "qr" and step.config["rotate_seconds"] == 45
    assert re.fullmatch(r"[0-9a-f]{64}", step.config["secret"])
