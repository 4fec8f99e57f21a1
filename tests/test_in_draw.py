"""The email that tells a participant they are in the draw: sent when every required
step is done, whoever records the last one (the web page or the worker), by name and in
the participant's language, exactly once per entry."""

from __future__ import annotations

import asyncio
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from contests import closing, entries, jobs
from contests.clock import utcnow
from contests.models import Contest, Entry, Outbox, Participant, Step
from contests.referrals import Arrival
from contests.settings import Settings
from contests.steps import completion, visit, visit_reports
from contests.tokens import Tokens
from tests.conftest import SECRET, Mailbox, eventually
from tests.factories import (
    BRAND_SITE,
    LINKS,
    added_step,
    after_redirect,
    brand_with_marketer,
    browser,
    csrf,
    enter_on_the_web,
    entrant,
    live_contest,
    participant,
    step_of,
    unique,
)

TOKENS = Tokens(SECRET)
CODE = "SECRET-42"


async def _report_visit(entry: Entry, step: Step, now: datetime) -> int:
    """The snippet's report of a visit to the step's page; the worker judges it later."""
    link = visit.visit_link_token(TOKENS, entry, step)
    start = await visit.start_visit(TOKENS, link, max_age=3600, now=now)
    token = parse_qs(urlsplit(start.target).query)[visit.VISIT_PARAM][0]
    evidence, _ = await visit_reports.report_visit(
        TOKENS,
        token,
        origin=f"https://{BRAND_SITE}",
        page_url=str(step.config["target_url"]),
        now=now,
    )
    return evidence.id


async def _verify_by_the_worker(app: Any, settings: Settings, evidence_id: int) -> None:
    await jobs.enqueue(
        app.state.gymkana.queue, settings.queue_name, jobs.VERIFY_EVIDENCE, evidence_id
    )


async def _type_the_code(player: httpx.AsyncClient, contest: Contest) -> str:
    """The code typed on the contest page; what the page says then."""
    step = await step_of(contest, "code")
    response = await player.post(
        f"/c/{contest.slug}/steps/{step.public_id}",
        data={"csrf_token": await csrf(player, f"/c/{contest.slug}"), "code": CODE},
    )
    return await after_redirect(player, response)


def _address(entry: Entry) -> str:
    assert entry.participant is not None and entry.participant.email
    return entry.participant.email


async def _in_draw_mail(mailbox: Mailbox, address: str, title: str) -> EmailMessage:
    async def arrived() -> list[EmailMessage]:
        return [m for m in mailbox.to(address) if title in str(m["Subject"])]

    [message] = await eventually(arrived, timeout=15)
    assert isinstance(message, EmailMessage)
    return message


async def test_the_code_typed_last_on_the_page_puts_the_participant_in_the_draw(
    app: Any, settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, code=CODE)
    async with browser(app, language="en") as player:
        entry = await enter_on_the_web(player, mailbox, contest, name="Ana")
        address = _address(entry)
        await entries.record_completion(
            entry, await step_of(contest, "visit"), utcnow(), links=LINKS
        )
        assert not await Outbox.filter(kind="in-draw", to_email=address).exists()
        assert "is done" in await _type_the_code(player, contest)

    message = await _in_draw_mail(mailbox, address, contest.title)
    assert str(message["Subject"]) == f"Ana, you are in the draw for “{contest.title}”"
    assert str(message["To"]).startswith("Ana <")
    assert str(message["Reply-To"]) == brand.reply_to
    assert message["Content-Language"] == "en"
    text = Mailbox.text(message)
    assert "Hello Ana," in text
    assert f"You have done every required step of “{contest.title}”" in text
    # Visit (2 points) and code (3 points): one chance for taking part and one per point.
    assert "Today you have 6 chances of winning." in text
    assert entry.public_id in text
    assert f"http://testserver/c/{contest.slug}" in text


async def test_a_visit_the_worker_verifies_last_puts_the_participant_in_the_draw_in_spanish(
    app: Any, settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, code=CODE)
    async with browser(app, language="es") as player:
        entry = await enter_on_the_web(player, mailbox, contest, name="Luis")
        address = _address(entry)
        assert "¡Bien encontrado!" in await _type_the_code(player, contest)
    assert not await Outbox.filter(kind="in-draw", to_email=address).exists()

    evidence_id = await _report_visit(entry, await step_of(contest, "visit"), utcnow())
    await _verify_by_the_worker(app, settings, evidence_id)

    message = await _in_draw_mail(mailbox, address, contest.title)
    assert str(message["Subject"]) == f"Luis, ya estás en el sorteo de “{contest.title}”"
    assert message["Content-Language"] == "es"
    text = Mailbox.text(message)
    assert "Hola, Luis:" in text
    assert "Hoy tienes 6 oportunidades de ganar." in text


async def test_the_email_is_in_the_language_the_participant_chose_for_emails(
    database_url: str,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    entry = await entrant(contest, name="Ana", locale="es")
    await Participant.filter(entries__id=entry.id).update(locale="en")
    for step in await Step.filter(contest=contest):
        await entries.record_completion(entry, step, utcnow(), links=LINKS)
    message = await Outbox.get(dedupe_key=f"in-draw:{entry.id}")
    assert message.locale == "en"
    assert message.subject == f"Ana, you are in the draw for “{contest.title}”"


async def test_two_completions_arriving_at_once_send_exactly_one_email(
    database_url: str,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    steps = await Step.filter(contest=contest)
    assert len(steps) == 2 and all(step.required for step in steps)
    entrants = [await entrant(contest, name=f"Player {n}") for n in range(4)]
    now = utcnow()
    # Each entry's two required steps are recorded together: neither may miss the
    # other and so leave the entry without its email, nor may both send one.
    await asyncio.gather(
        *(
            entries.record_completion(entry, step, now, links=LINKS)
            for entry in entrants
            for step in steps
        )
    )
    for entry in entrants:
        assert await Outbox.filter(dedupe_key=f"in-draw:{entry.id}").count() == 1


async def test_recording_the_same_completions_again_sends_nothing_more(
    settings: Settings, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    entry = await entrant(contest, name="Eva", complete=True)
    person = await Participant.get(entries__id=entry.id)
    assert person.email
    await _in_draw_mail(mailbox, person.email, contest.title)
    for step in await Step.filter(contest=contest):
        assert not await entries.record_completion(entry, step, utcnow(), links=LINKS)
    assert await Outbox.filter(kind="in-draw", to_email=person.email).count() == 1
    assert len(mailbox.to(person.email)) == 1


async def test_no_email_while_a_required_step_is_missing(database_url: str) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    entry = await entrant(contest, name="Ana")
    assert await entries.record_completion(
        entry, await step_of(contest, "code"), utcnow(), links=LINKS
    )
    assert not await Outbox.filter(dedupe_key=f"in-draw:{entry.id}").exists()


async def test_steps_recorded_after_the_close_tell_nobody_they_are_in_the_draw(
    database_url: str,
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    entry = await entrant(contest, name="Ana")
    # The list is frozen at the close: whatever is recorded later is not in it.
    assert await closing.close(contest.id, utcnow())
    for step in await Step.filter(contest=contest):
        assert await entries.record_completion(entry, step, utcnow(), links=LINKS)
    assert not await Outbox.filter(dedupe_key=f"in-draw:{entry.id}").exists()


async def test_a_friend_doing_a_step_can_put_the_referrer_in_the_draw(database_url: str) -> None:
    """The referral step is done by someone else's completion: it counts here too."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    await added_step(contest, "referral", {"max_referrals": "3"}, required=True)
    referrer = await entrant(contest, name="Ana", locale="es")
    for step in await Step.filter(contest=contest).exclude(kind="referral"):
        await entries.record_completion(referrer, step, utcnow(), links=LINKS)
    assert not await Outbox.filter(dedupe_key=f"in-draw:{referrer.id}").exists()

    friend = await participant(address=f"{unique('friend')}@gmail.com")
    theirs = await entries.enter(
        contest,
        friend,
        consented=True,
        locale="es",
        now=utcnow(),
        arrival=Arrival(referrer.referral_code),
    )
    code = await step_of(contest, "code")
    assert await completion.submit(theirs, code, {"code": CODE}, utcnow(), links=LINKS)

    assert await Outbox.filter(dedupe_key=f"in-draw:{referrer.id}").count() == 1
