"""The community wall: the brand shows chosen opinion answers on the contest page, only
those whose participant agreed to it, under their display name and with the brand's
reply; withdrawing the consent, or deleting the account, takes an answer off."""

from __future__ import annotations

from typing import Any

import httpx

from contests import accounts, answers, wall
from contests.clock import utcnow
from contests.models import Answer, AuditLog, Brand, Contest, Marketer, Participant, Step
from contests.steps import completion
from tests.conftest import Mailbox
from tests.factories import (
    LINKS,
    added_step,
    after_redirect,
    brand_and_marketer_address,
    brand_with_marketer,
    browser,
    csrf,
    entrant,
    live_contest,
    marketer_console,
    page_text,
    player,
    step_html,
)

QUESTION = "What should we roast next?"
WORDS = "A washed Ethiopian, please"


async def _opinion(contest: Contest) -> Step:
    settings = {"question": QUESTION, "min_length": "5", "max_length": "200"}
    return await added_step(contest, "opinion", settings, title="Tell us", required=False)


async def _consent(client: httpx.AsyncClient, contest: Contest, step: Step, given: bool) -> str:
    token = await csrf(client, f"/c/{contest.slug}")
    data = {"csrf_token": token, **({"publish": "on"} if given else {})}
    response = await client.post(f"/c/{contest.slug}/steps/{step.public_id}/publish", data=data)
    assert response.headers["location"] == f"/c/{contest.slug}#step-{step.public_id}-feedback"
    return await after_redirect(client, response)


async def _show(
    console: httpx.AsyncClient, brand: Brand, contest: Contest, answer: Answer, shown: bool
) -> str:
    listing = f"/console/{brand.slug}/contests/{contest.id}/answers"
    data = {"csrf_token": await csrf(console, listing), **({"shown": "on"} if shown else {})}
    response = await console.post(f"{listing}/{answer.id}/wall", data=data)
    return await after_redirect(console, response)


async def _public_page(app: Any, contest: Contest) -> str:
    async with browser(app, language="en") as visitor:
        return page_text(await visitor.get(f"/c/{contest.slug}"))


async def test_an_answer_goes_on_the_wall_only_with_consent_and_leaves_when_it_is_withdrawn(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    step = await _opinion(contest)
    async with player(app, mailbox, contest) as fan:
        token = await csrf(fan, f"/c/{contest.slug}")
        await fan.post(
            f"/c/{contest.slug}/steps/{step.public_id}",
            data={"csrf_token": token, "answer": WORDS},
        )
        me = await Participant.get(entries__contest_id=contest.id)
        await Participant.filter(id=me.id).update(display_name="Ana")
        answer = await Answer.get(step=step)
        # The choice is offered, never made for the participant.
        offered = step_html((await fan.get(f"/c/{contest.slug}")).text, step)
        assert 'name="publish"' in offered and "checked" not in offered
        assert answer.publish_consent_at is None

        async with marketer_console(app, mailbox, address) as console:
            listing = f"/console/{brand.slug}/contests/{contest.id}/answers"
            assert f"/answers/{answer.id}/wall" not in (await console.get(listing)).text
            refused = await _show(console, brand, contest, answer, True)
            assert "has not agreed to have their answer published" in refused
            assert (await Answer.get(id=answer.id)).on_wall_at is None

            said = await _consent(fan, contest, step, True)
            assert "may show your answer on this page, under your name" in said
            await answers.reply(
                await _marketer(brand), answer.id, "Noted, Ana!", now=utcnow(), links=LINKS
            )
            assert "on the contest's wall now" in await _show(console, brand, contest, answer, True)

        shown = await _public_page(app, contest)
        assert "What people tell" in shown and WORDS in shown
        assert f"Ana, on “{QUESTION}”" in shown and "Noted, Ana!" in shown
        assert "Marta, from" in shown

        said = await _consent(fan, contest, step, False)
        assert "your answer is not shown on this page" in said
    assert WORDS not in await _public_page(app, contest)
    withdrawn = await Answer.get(id=answer.id)
    assert withdrawn.publish_consent_at is None and withdrawn.on_wall_at is None
    assert await AuditLog.filter(action="answer.shown", brand=brand).count() == 1


async def _marketer(brand: Brand) -> Marketer:
    role = await Marketer.get(brand=brand)
    await role.fetch_related("brand")
    return role


async def test_deleting_the_account_takes_the_answer_off_the_wall(database_url: str) -> None:
    brand, marketer = await brand_with_marketer()
    await marketer.fetch_related("brand")
    contest = await live_contest(brand)
    step = await _opinion(contest)
    entry = await entrant(contest, name="Luis")
    assert await completion.submit(entry, step, {"answer": WORDS}, utcnow(), links=LINKS)
    await wall.consent(entry, step, True, now=utcnow())
    answer = await Answer.get(entry=entry, step=step)
    await wall.show(marketer, contest, answer.id, True, now=utcnow())
    assert [a.id for a in await wall.wall_of(contest)] == [answer.id]
    exported = await accounts.export(await Participant.get(entries__id=entry.id), now=utcnow())
    [mine] = [e for e in exported["entries"] if e["pseudonymous_id"] == entry.public_id]
    assert mine["answers"][0]["on_the_contest_wall_since"] is not None
    await accounts.delete(await Participant.get(entries__id=entry.id))
    assert await wall.wall_of(contest) == []


async def test_the_console_preview_of_a_published_contest_shows_its_wall(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    """The preview is the page participants see, wall included."""
    brand, address = await brand_and_marketer_address()
    contest = await live_contest(brand)
    step = await _opinion(contest)
    entry = await entrant(contest, name="Luis")
    assert await completion.submit(entry, step, {"answer": WORDS}, utcnow(), links=LINKS)
    await wall.consent(entry, step, True, now=utcnow())
    answer = await Answer.get(entry=entry, step=step)
    await wall.show(await _marketer(brand), contest, answer.id, True, now=utcnow())
    async with marketer_console(app, mailbox, address) as console:
        link = await console.get(f"/console/{brand.slug}/contests/{contest.id}/preview?lang=en")
        assert link.status_code == 303
        preview = await console.get(link.headers["location"])
        assert preview.status_code == 200 and 'data-testid="preview-note"' in preview.text
    shown = page_text(preview)
    assert 'data-testid="wall"' in preview.text
    assert WORDS in shown and f"Luis, on “{QUESTION}”" in shown
    assert shown.count(WORDS) == (await _public_page(app, contest)).count(WORDS)
