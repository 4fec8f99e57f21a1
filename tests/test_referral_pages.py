"""Referral and share steps through the app: following a link saves nothing and survives
signing in, refusals are recorded with their reason, the contest page shows the link, its
QR code and the leaderboard, and the console labels unverified points and flagged entries."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

import httpx

from contests import authoring
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.models import Completion, Contest, Entry, FraudFlag, Referral, ReferralStatus, Step
from contests.referrals import ARRIVAL_COOKIE, Refusal
from contests.signals import Reason
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    brand_with_marketer,
    browser,
    csrf,
    email,
    entrant,
    live_contest,
    page_text,
    sign_in,
    step_of,
    unique,
)

CODE = "SECRET-42"


async def _contest(*, share: bool = False) -> tuple[Contest, Step, str]:
    """A live contest with a referral step (and a share step), and its marketer's address."""
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    contest = await live_contest(brand, code=CODE)
    step = await authoring.add_step(
        contest,
        StepDraft(kind="referral", title="Friends", points=2, settings={"max_referrals": "5"}),
        actor="test",
        now=utcnow(),
    )
    if share:
        await authoring.add_step(
            contest,
            StepDraft(kind="share", title="Share", points=1, settings={"message": "Ven & juega"}),
            actor="test",
            now=utcnow(),
        )
    return contest, step, address


def _gmail() -> str:
    return f"{unique('friend')}@gmail.com"


async def _enter(client: httpx.AsyncClient, contest: Contest) -> Entry:
    page = f"/c/{contest.slug}"
    response = await client.post(
        f"{page}/enter", data={"csrf_token": await csrf(client, page), "consent": "yes"}
    )
    assert response.status_code == 303, response.text
    return await Entry.filter(contest=contest).order_by("-id").first()  # type: ignore[return-value]


async def _find_the_code(client: httpx.AsyncClient, contest: Contest) -> None:
    code_step = await step_of(contest, "code")
    response = await client.post(
        f"/c/{contest.slug}/steps/{code_step.public_id}",
        data={"csrf_token": await csrf(client, f"/c/{contest.slug}"), "code": CODE},
    )
    assert response.status_code == 303, response.text


async def _saved(contest: Contest) -> tuple[int, int, int]:
    return (
        await Entry.filter(contest=contest).count(),
        await Referral.filter(contest=contest).count(),
        await Completion.filter(entry__contest=contest).count(),
    )


async def test_a_referral_link_saves_nothing_and_is_remembered_through_sign_in(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step, _ = await _contest()
    referrer = await entrant(contest)
    before = await _saved(contest)
    async with browser(app, language="en") as friend:
        followed = await friend.get(f"/c/{contest.slug}/r/{referrer.referral_code}")
        assert followed.status_code == 303
        assert followed.headers["location"] == f"/c/{contest.slug}"
        assert ARRIVAL_COOKIE in followed.headers["set-cookie"]
        assert "httponly" in followed.headers["set-cookie"].lower()
        assert await _saved(contest) == before
        # Signing in starts a new session; the arrival is in a cookie of its own.
        await sign_in(friend, mailbox, _gmail(), f"/c/{contest.slug}")
        entry = await _enter(friend, contest)
        referral = await Referral.get(referred=entry)
        assert referral.status is ReferralStatus.PENDING
        assert referral.referrer_id == referrer.id  # type: ignore[attr-defined]
        await _find_the_code(friend, contest)
    assert (await Referral.get(referred=entry)).status is ReferralStatus.CREDITED
    assert (await Completion.get(entry=referrer, step=step)).points == 2


async def test_a_link_to_a_contest_that_is_not_public_is_not_found(app: Any) -> None:
    async with browser(app) as visitor:
        response = await visitor.get("/c/no-such-contest/r/AAAAAAAAAAAAAAAA")
        assert response.status_code == 404
        assert ARRIVAL_COOKIE not in response.headers.get("set-cookie", "")


async def _refused_through_the_app(
    app: Any, mailbox: Mailbox, contest: Contest, cookie: str | None, path: str | None
) -> Referral:
    async with browser(app, language="en") as friend:
        if path is not None:
            response = await friend.get(path)
            assert response.status_code == 303
            assert len(response.headers["set-cookie"]) < 1000
        if cookie is not None:
            friend.cookies.set(ARRIVAL_COOKIE, cookie)
        await sign_in(friend, mailbox, _gmail(), f"/c/{contest.slug}")
        entry = await _enter(friend, contest)
        await _find_the_code(friend, contest)
    referral = await Referral.get(referred=entry)
    assert referral.status is ReferralStatus.REFUSED
    return referral


async def test_tampered_altered_and_foreign_codes_are_recorded_and_credit_nothing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step, _ = await _contest()
    referrer = await entrant(contest)
    other, _, _ = await _contest()
    foreign = await entrant(other)
    tries = {
        Refusal.TAMPERED: ("not-a-signed-value", None),
        Refusal.UNKNOWN_CODE: (None, f"/c/{contest.slug}/r/{'Z' * 20}"),
        Refusal.FOREIGN_CODE: (None, f"/c/{contest.slug}/r/{foreign.referral_code}"),
    }
    for reason, (cookie, path) in tries.items():
        referral = await _refused_through_the_app(app, mailbox, contest, cookie, path)
        assert referral.reason == reason
    # Over-long or odd codes keep the cookie small and count as unknown.
    for code in ("x" * 5000, quote("<script>", safe="")):
        path = f"/c/{contest.slug}/r/{code}"
        referral = await _refused_through_the_app(app, mailbox, contest, None, path)
        assert (referral.reason, referral.code) == (Refusal.UNKNOWN_CODE, "")
    assert not await Completion.filter(entry=referrer, step=step).exists()
    assert not await Completion.filter(entry=foreign).exists()


async def test_a_friend_on_the_referrers_own_browser_does_not_count(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, step, _ = await _contest()
    async with browser(app, language="en") as shared:
        await sign_in(shared, mailbox, _gmail(), f"/c/{contest.slug}")
        referrer = await _enter(shared, contest)
        logout = await shared.post("/logout", data={"csrf_token": await csrf(shared, "/")})
        assert logout.status_code == 303
        await shared.get(f"/c/{contest.slug}/r/{referrer.referral_code}")
        await sign_in(shared, mailbox, _gmail(), f"/c/{contest.slug}")
        friend = await _enter(shared, contest)
        await _find_the_code(shared, contest)
    referral = await Referral.get(referred=friend)
    assert (referral.status, referral.reason) == (ReferralStatus.REFUSED, Refusal.SAME_DEVICE)
    assert not await Completion.filter(entry=referrer, step=step).exists()
    for entry in (referrer, friend):
        assert await FraudFlag.filter(entry=entry, reason=Reason.SAME_DEVICE).exists()


async def test_the_contest_page_shows_the_link_its_qr_code_and_the_leaderboard(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, _, marketer_address = await _contest()
    page = f"/c/{contest.slug}"
    async with (
        browser(app, language="es") as player,
        browser(app, language="en") as marketer,
        browser(app, language="en") as stranger,
    ):
        await sign_in(player, mailbox, _gmail(), page)
        before = page_text(await player.get(page))
        assert "Trae a tus amigos" not in before
        for format_ in ("svg", "png"):
            assert (await player.get(f"{page}/my-link.{format_}")).status_code == 404
        entry = await _enter(player, contest)
        shown = page_text(await player.get(page))
        assert "Trae a tus amigos" in shown
        link = f"http://testserver/c/{contest.slug}/r/{entry.referral_code}"
        assert f'value="{link}"' in shown
        assert "0 amigos cuentan ya." in shown
        assert 'data-testid="leaders"' not in shown

        svg = await player.get(f"{page}/my-link.svg")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
        assert svg.content.lstrip().startswith(b"<svg")
        png = await player.get(f"{page}/my-link.png")
        assert (
            png.content.startswith(b"\x89PNG")
            and "attachment" in png.headers["content-disposition"]
        )
        assert (await player.get(f"{page}/my-link.gif")).status_code == 404
        assert (await stranger.get(f"{page}/my-link.svg")).status_code in (303, 401)

        friend = await entrant(contest, name="Lucía")
        await Referral.create(
            contest=contest,
            referrer=entry,
            referred=friend,
            status=ReferralStatus.CREDITED,
            created_at=utcnow(),
            credited_at=utcnow(),
        )
        await sign_in(marketer, mailbox, marketer_address)
        await contest.fetch_related("brand")
        console = f"/console/{contest.brand.slug}/contests/{contest.id}"
        toggled = await marketer.post(
            f"{console}/leaderboard",
            data={"csrf_token": await csrf(marketer, console), "shown": "on"},
        )
        assert "now shows the top referrers" in await after_redirect(marketer, toggled)
        board = page_text(await stranger.get(page))
        leaders = re.search(r'data-testid="leaders">(.*?)</ol>', board, re.S)
        player_name = (await Entry.get(id=entry.id).prefetch_related("participant")).participant
        assert player_name is not None
        assert leaders and f"{player_name.display_name} · 1 friend" in leaders.group(1)
        assert (await Contest.get(id=contest.id)).referral_leaderboard


async def test_a_share_step_offers_each_network_and_counts_the_participants_word(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, _, marketer_address = await _contest(share=True)
    share = await step_of(contest, "share")
    page = f"/c/{contest.slug}"
    async with browser(app, language="en") as player, browser(app, language="en") as marketer:
        await sign_in(player, mailbox, _gmail(), page)
        entry = await _enter(player, contest)
        shown = (await player.get(page)).text
        link = quote(f"http://testserver/c/{contest.slug}/r/{entry.referral_code}")
        for intent in (
            f"https://x.com/intent/tweet?text=Ven%20%26%20juega&amp;url={link}",
            f"https://www.facebook.com/sharer/sharer.php?u={link}",
            f"https://wa.me/?text=Ven%20%26%20juega%20{link}",
            f"https://www.linkedin.com/sharing/share-offsite/?url={link}",
            "mailto:?subject=",
        ):
            assert intent in shown, intent
        assert 'data-copy="share-link-' in shown

        done = await player.post(
            f"{page}/steps/{share.public_id}", data={"csrf_token": await csrf(player, page)}
        )
        assert done.status_code == 303
        assert (await Completion.get(entry=entry, step=share)).points == 1

        await sign_in(marketer, mailbox, marketer_address)
        await contest.fetch_related("brand")
        console = page_text(
            await marketer.get(f"/console/{contest.brand.slug}/contests/{contest.id}")
        )
        steps = console[console.index('id="steps"') : console.index('id="referrals"')]
        assert "unverified" in steps
        entries = page_text(
            await marketer.get(f"/console/{contest.brand.slug}/contests/{contest.id}/entrants")
        )
        assert "1 point unverified" in entries


async def test_flagged_entries_show_their_reasons_in_the_console(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest, _, marketer_address = await _contest()
    async with browser(app, language="es") as throwaway, browser(app, language="en") as marketer:
        await sign_in(throwaway, mailbox, f"{unique('x')}@mailinator.com", f"/c/{contest.slug}")
        flagged = await _enter(throwaway, contest)
        await sign_in(marketer, mailbox, marketer_address)
        await contest.fetch_related("brand")
        path = f"/console/{contest.brand.slug}/contests/{contest.id}/entrants"
        english = page_text(await marketer.get(path))
        spanish = page_text(await marketer.get(path + "?lang=es"))
    row = re.search(rf"<tr class=\"flagged\">.*?{flagged.public_id}.*?</tr>", english, re.S)
    assert row and "disposable email address" in row.group(0)
    assert "correo desechable" in spanish
    assert html.escape("disposable") not in spanish
