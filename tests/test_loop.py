"""The whole contest loop through HTTP and a real arq worker, mail over real SMTP."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from contests import closing
from contests.clock import utcnow
from contests.models import (
    Completion,
    Contest,
    ContestStatus,
    Entry,
    Outbox,
    OutboxStatus,
    Participant,
)
from contests.verify import verify_certificate
from tests.conftest import Mailbox, eventually
from tests.factories import (
    BRAND_SITE,
    brand_with_marketer,
    csrf,
    csrf_of,
    email,
    entrant,
    frozen_list,
    live_contest,
    published_certificate,
    sign_in,
    unique,
)


async def test_a_marketer_builds_a_contest_and_a_participant_wins_it(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    marketer_address = email("marketer")
    brand, _ = await brand_with_marketer(marketer_address)
    transport = httpx.ASGITransport(app=app, client=("10.1.0.1", 1000))
    marketer = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    participant = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("10.1.0.2", 1000)),
        base_url="http://testserver",
    )

    # The marketer signs in with an emailed link and builds the contest in the console.
    await sign_in(marketer, mailbox, marketer_address, f"/console/{brand.slug}")
    token = await csrf(marketer, f"/console/{brand.slug}/contests/new")
    title = unique("Ruta del café")
    created = await marketer.post(
        f"/console/{brand.slug}/contests",
        data={
            "csrf_token": token,
            "title": title,
            "description": "Three clues",
            "starts_at": "2020-01-01T10:00",
            "ends_at": "2099-01-01T10:00",
            "timezone": "Europe/Madrid",
            "alternates": "1",
        },
    )
    assert created.status_code == 303, created.text
    contest_path = created.headers["location"]
    page = await marketer.get(contest_path)
    token = csrf_of(page.text)
    for data in ({"name": "A year of coffee", "quantity": "1"},):
        added = await marketer.post(f"{contest_path}/prizes", data={"csrf_token": token, **data})
        assert added.status_code == 303
    for data in (
        {
            "kind": "visit",
            "title": "Our origins",
            "points": "2",
            "required": "on",
            "target_url": f"https://{BRAND_SITE}/origins",
            "dwell_seconds": "0",
        },
        {
            "kind": "code",
            "title": "The menu code",
            "points": "3",
            "required": "on",
            "code": "Aurora 2026",
        },
    ):
        added = await marketer.post(f"{contest_path}/steps", data={"csrf_token": token, **data})
        assert added.status_code == 303
    published = await marketer.post(
        f"{contest_path}/publish", data={"csrf_token": token, "confirm": "on"}
    )
    assert published.status_code == 303
    contest = await Contest.get(title=title)
    assert contest.status is ContestStatus.LIVE and contest.seed_commitment

    # A participant signs in, enters, and follows the visit step to the brand's page.
    participant_address = email("ana")
    await sign_in(participant, mailbox, participant_address, f"/c/{contest.slug}")
    page = await participant.get(f"/c/{contest.slug}")
    entered = await participant.post(
        f"/c/{contest.slug}/enter", data={"csrf_token": csrf_of(page.text), "consent": "yes"}
    )
    assert entered.status_code == 303
    page = await participant.get(f"/c/{contest.slug}")
    go = re.search(r'href="(/go/[^"]+)"', page.text)
    assert go, "no visit link on the contest page"
    jump = await participant.get(go.group(1))
    assert jump.status_code == 303
    target = urlsplit(jump.headers["location"])
    assert target.hostname == BRAND_SITE and target.path == "/origins"
    visit_token = parse_qs(target.query)["gk"][0]

    # The snippet on the brand page asks what to show, then reports the visit.
    origin = {"Origin": f"https://{BRAND_SITE}"}
    info = await participant.get(f"/api/visits/{visit_token}", headers=origin)
    assert info.status_code == 200
    assert info.headers["access-control-allow-origin"] == f"https://{BRAND_SITE}"
    assert info.json()["step"] == {"number": 1, "total": 2, "title": "Our origins"}
    reported = await participant.post(
        "/api/beacon",
        content=f'{{"token": "{visit_token}", "page": "https://{BRAND_SITE}/origins"}}',
        headers={**origin, "Content-Type": "text/plain"},
    )
    assert reported.status_code == 202, reported.text

    async def visit_recorded() -> bool:
        return await Completion.filter(entry__contest=contest, step__title="Our origins").exists()

    await eventually(visit_recorded)

    # The code from another page, typed with other case and spacing.
    page = await participant.get(f"/c/{contest.slug}")
    step_id = re.search(r'action="/c/[^/]+/steps/([^"]+)"', page.text)
    assert step_id
    typed = await participant.post(
        f"/c/{contest.slug}/steps/{step_id.group(1)}",
        data={"csrf_token": csrf_of(page.text), "code": " aurora2026 "},
    )
    assert typed.status_code == 303
    page = await participant.get(f"/c/{contest.slug}")
    assert "2 of 2 steps done" in page.text or "2 de 2 pasos" in page.text
    # Every required step done: an email tells the participant they are in the draw.
    assert await Outbox.filter(kind="in-draw", to_email=participant_address).exists()

    # "Close now": the worker draws and the winner's email goes out over SMTP.
    closed = await marketer.post(
        f"{contest_path}/close", data={"csrf_token": token, "confirm": "on"}
    )
    assert closed.status_code == 303

    async def winner_mailed() -> bool:
        return await Outbox.filter(
            kind="winner", to_email=participant_address, status=OutboxStatus.SENT
        ).exists()

    await eventually(winner_mailed)
    [mail] = [
        m for m in mailbox.to(participant_address) if re.search(r"won|ganado", str(m["Subject"]))
    ]
    assert contest.title in str(mail["Subject"])
    assert str(mail["Reply-To"]) == brand.reply_to
    certificate = await published_certificate(contest)
    assert verify_certificate(certificate) == []
    order = certificate["order"]
    assert isinstance(order, list)
    assert order[0] == (await Entry.filter(contest=contest))[0].public_id
    page = await participant.get(f"/c/{contest.slug}")
    assert 'data-testid="my-win"' in page.text
    await marketer.aclose()
    await participant.aclose()


async def test_at_the_end_time_the_workers_clock_closes_draws_and_mails_the_winner(
    worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    winner = await entrant(contest, name="Lucía", locale="es", complete=True)
    # Nobody presses anything: the contest simply reaches its end.
    await Contest.filter(id=contest.id).update(ends_at=utcnow())

    async def drawn() -> bool:
        return (await Contest.get(id=contest.id)).status is ContestStatus.DRAWN

    await eventually(drawn, timeout=20)
    certificate = await published_certificate(contest)
    assert verify_certificate(certificate) == []
    assert certificate["order"][0] == winner.public_id
    address = (await Participant.get(entries__id=winner.id)).email or ""

    # Lucía was told earlier that she was in the draw; this is the winner's email.
    async def mailed() -> list[EmailMessage]:
        return [m for m in mailbox.to(address) if "ganado" in str(m["Subject"])]

    [message] = await eventually(mailed, timeout=20)
    assert "Lucía" in str(message["Subject"]) and message["Content-Language"] == "es"


async def test_steps_done_after_the_end_do_not_count_in_the_draw(database_url: Any) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    on_time = await entrant(contest, complete=True)
    ended = utcnow()
    late = await entrant(contest, complete=True)
    await Contest.filter(id=contest.id).update(ends_at=ended)
    # The worker closes a little after the end; what happened in between is too late.
    await closing.close(contest.id, utcnow())
    frozen = [pseudonym for pseudonym, _ in await frozen_list(contest)]
    assert frozen == [on_time.public_id]
    assert late.public_id not in frozen
