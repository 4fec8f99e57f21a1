"""Visit steps: the signed /go/ link, the snippet's beacon and the worker's verdict.

Only the brand's own pages may report a visit, each visit counts once, and only after
the participant stayed the time the step asks for."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from contests import authoring
from contests.authoring import StepDraft
from contests.clock import utcnow
from contests.errors import InvalidInput
from contests.models import Completion, Entry, Evidence, EvidenceStatus, Step
from contests.settings import Settings
from contests.steps import completion
from contests.steps.visit import visit_link_token
from contests.tokens import Tokens
from tests.conftest import Mailbox, eventually
from tests.factories import (
    BRAND_SITE,
    LINKS,
    after_redirect,
    brand_with_marketer,
    browser,
    csrf,
    csrf_of,
    draft_contest,
    email,
    entrant,
    live_contest,
    page_text,
    sign_in,
    step_of,
)
from tests.support.flows import app_with

BRAND_ORIGIN = f"https://{BRAND_SITE}"
PAGE = f"{BRAND_ORIGIN}/origins?ref=contest"


def _tokens(app: Any) -> Tokens:
    tokens: Tokens = app.state.gymkana.tokens
    return tokens


async def _playing(dwell_seconds: int = 0) -> tuple[Entry, Step]:
    """An entry in a live contest, and the contest's visit step."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand, dwell_seconds=dwell_seconds)
    return await entrant(contest), await step_of(contest, "visit")


async def _follow_step_link(client: httpx.AsyncClient, app: Any, entry: Entry, step: Step) -> str:
    """Follow the step's /go/ link as the contest page shows it; return the visit token."""
    response = await client.get(f"/go/{visit_link_token(_tokens(app), entry, step)}")
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    assert target.hostname == BRAND_SITE
    return parse_qs(target.query)["gk"][0]


async def _beacon(
    client: httpx.AsyncClient,
    token: str,
    *,
    origin: str | None = BRAND_ORIGIN,
    page: str = PAGE,
) -> httpx.Response:
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    if origin is not None:
        headers["Origin"] = origin
    return await client.post(
        "/api/beacon", content=json.dumps({"token": token, "page": page}), headers=headers
    )


async def _judged(entry: Entry) -> Evidence:
    """The entry's visit report once the worker has given its verdict."""

    async def judged() -> Evidence | None:
        return await Evidence.filter(entry=entry).exclude(status=EvidenceStatus.PENDING).first()

    report: Evidence = await eventually(judged)
    return report


def _json_error(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and error["message"]
    return error  # type: ignore[no-any-return]


class _TwoDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 24 * 3600


class _BackdatedTokens(Tokens):
    """Signs exactly as the app does, but as if it were two days ago."""

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        serializer = super()._serializer(purpose)
        serializer.signer = _TwoDaysAgo
        return serializer


async def test_a_visit_reported_from_the_brands_page_is_verified(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    response = await _beacon(client, token)
    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == BRAND_ORIGIN

    report = await _judged(entry)
    assert report.status is EvidenceStatus.VERIFIED
    assert await Completion.filter(entry=entry, step=step).exists()


async def test_a_replayed_beacon_records_nothing(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    assert (await _beacon(client, token)).status_code == 202
    replayed = await _beacon(client, token)
    assert replayed.status_code == 409
    assert _json_error(replayed)["code"] == "visit_replayed"
    await _judged(entry)
    assert await Evidence.filter(entry=entry).count() == 1


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        f"https://{BRAND_SITE}.evil.example",
        f"https://not{BRAND_SITE}",
        "null",
        None,
        f"https://evil.example\\.{BRAND_SITE}",
        f"https://[{BRAND_SITE}",
        f"https://{BRAND_SITE}:99999",
    ],
    ids=[
        "other-site",
        "look-alike-suffix",
        "look-alike-prefix",
        "opaque",
        "no-origin",
        "backslash",
        "unclosed-bracket",
        "bad-port",
    ],
)
async def test_a_beacon_from_another_site_is_refused(
    client: httpx.AsyncClient, app: Any, origin: str | None
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    response = await _beacon(client, token, origin=origin)
    assert response.status_code == 403
    assert _json_error(response)["code"] == "bad_origin"
    assert "access-control-allow-origin" not in response.headers
    assert not await Evidence.filter(entry=entry).exists()


async def test_a_beacon_reporting_a_page_of_another_site_is_refused(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    response = await _beacon(client, token, page="https://evil.example/origins")
    assert response.status_code == 403
    assert _json_error(response)["code"] == "bad_page"
    assert not await Evidence.filter(entry=entry).exists()


async def test_a_visit_shorter_than_the_dwell_time_is_rejected_by_the_worker(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _playing(dwell_seconds=5)
    token = await _follow_step_link(client, app, entry, step)
    assert (await _beacon(client, token)).status_code == 202

    report = await _judged(entry)
    assert report.status is EvidenceStatus.REJECTED
    assert report.reason == "left after less than 5 s"
    assert not await Completion.filter(entry=entry).exists()


async def test_a_tampered_step_link_gets_a_friendly_page(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _playing()
    genuine = visit_link_token(_tokens(app), entry, step)
    flipped = "A" if genuine[-5] != "A" else "B"
    for token in (genuine[:-5] + flipped + genuine[-4:], genuine[:20], "not-a-token"):
        response = await client.get(f"/go/{token}", headers={"Accept-Language": "en"})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")
        assert "This link is not valid" in page_text(response)
        assert "location" not in response.headers


async def test_an_expired_step_link_gets_a_friendly_page(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _playing()
    old = visit_link_token(_BackdatedTokens(app.state.gymkana.settings.secret_key), entry, step)
    response = await client.get(f"/go/{old}", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "This link has expired. Go back to the contest page" in page_text(response)


async def test_an_expired_visit_token_is_not_counted(client: httpx.AsyncClient, app: Any) -> None:
    entry, step = await _playing()
    backdated = _BackdatedTokens(app.state.gymkana.settings.secret_key)
    old = backdated.sign(
        "visit", {"e": entry.public_id, "s": step.public_id, "t": time.time(), "n": "x" * 16}
    )
    response = await _beacon(client, old)
    assert response.status_code == 422
    assert _json_error(response)["code"] == "link_expired"
    assert not await Evidence.filter(entry=entry).exists()


async def test_a_locked_step_cannot_be_visited_yet(client: httpx.AsyncClient, app: Any) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    code_step = await step_of(contest, "code")
    locked = await authoring.add_step(
        contest,
        StepDraft(
            kind="visit",
            title="The secret room",
            unlocks_after=code_step.id,
            settings={"target_url": f"{BRAND_ORIGIN}/secret", "dwell_seconds": 0},
        ),
        actor="test",
        now=utcnow(),
    )
    entry = await entrant(contest)
    token = visit_link_token(_tokens(app), entry, locked)
    response = await client.get(f"/go/{token}", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert "This step is still locked" in page_text(response)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b'{"token": "abc"}',
        b'{"page": "https://shop.example.com/"}',
        b'["token", "page"]',
        b'"token"',
        b"null",
        b"\xff\xfe{}",
        json.dumps({"token": "x", "page": PAGE, "padding": "x" * 5000}).encode(),
        b"[" * 2000 + b"]" * 2000,
        b'{"token": "\\ud800", "page": "\\udfff"}',
    ],
    ids=[
        "not-json",
        "empty",
        "no-page",
        "no-token",
        "a-list",
        "a-string",
        "null",
        "not-utf8",
        "over-4kb",
        "nested",
        "lone-surrogates",
    ],
)
async def test_a_malformed_beacon_gets_a_json_error(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(
        "/api/beacon", content=body, headers={"Origin": BRAND_ORIGIN, "Content-Type": "text/plain"}
    )
    assert 400 <= response.status_code < 500
    _json_error(response)


async def test_a_huge_beacon_is_refused_before_it_is_read(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    body = json.dumps({"token": token, "page": PAGE, "padding": "x" * 5000})
    response = await client.post(
        "/api/beacon", content=body, headers={"Origin": BRAND_ORIGIN, "Content-Type": "text/plain"}
    )
    assert response.status_code == 422
    assert _json_error(response)["code"] == "too_large"
    assert not await Evidence.filter(entry=entry).exists()


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 600, "%C3%B1"])
async def test_asking_about_an_unknown_visit_gets_a_json_error(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get(f"/api/visits/{token}", headers={"Origin": BRAND_ORIGIN})
    assert response.status_code == 422
    assert _json_error(response)["code"] == "link_invalid"


async def test_only_the_brands_pages_may_read_the_visit_details(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    for origin in (BRAND_ORIGIN, f"https://www.{BRAND_SITE}"):
        allowed = await client.get(f"/api/visits/{token}", headers={"Origin": origin})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == origin
        assert "origin" in allowed.headers["vary"].lower()
    for origin in (
        "https://evil.example",
        f"https://{BRAND_SITE}.evil.example",
        f"https://evil.example\\.{BRAND_SITE}",
        f"https://[{BRAND_SITE}",
    ):
        refused = await client.get(f"/api/visits/{token}", headers={"Origin": origin})
        assert "access-control-allow-origin" not in refused.headers


async def _visit_step(
    *, target: str = PAGE, pages: str = "page", proof: str = "snippet", locale: str = "en"
) -> tuple[Entry, Step]:
    """An entry in a live contest (a visit and a code step), and a visit step of its own."""
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    step = await authoring.add_step(
        contest,
        StepDraft(
            kind="visit",
            title="Our shops",
            settings={"target_url": target, "dwell_seconds": "0", "pages": pages, "proof": proof},
        ),
        actor="test",
        now=utcnow(),
    )
    return await entrant(contest, locale=locale), step


async def _status(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    response = await client.get(f"/api/visits/{token}/status", headers={"Origin": BRAND_ORIGIN})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == BRAND_ORIGIN
    assert response.headers["cache-control"] == "no-store"
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "page",
    [f"{BRAND_ORIGIN}/", f"{BRAND_ORIGIN}/origins/farms?ref=contest", f"{BRAND_ORIGIN}/origins"],
    ids=["home", "page-under-it", "without-the-query"],
)
async def test_a_beacon_for_another_page_of_the_brands_site_is_refused(
    client: httpx.AsyncClient, app: Any, page: str
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    response = await _beacon(client, token, page=page)
    assert response.status_code == 403
    assert _json_error(response)["code"] == "wrong_page"
    assert not await Evidence.filter(entry=entry).exists()
    # The same token still counts from the step's own page: nothing was used up.
    assert (await _beacon(client, token)).status_code == 202


async def test_the_steps_page_is_known_whatever_its_scheme_www_slash_and_fragment(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    page = f"http://www.{BRAND_SITE}/origins/?utm_source=mail&ref=contest#farms"
    assert (await _beacon(client, token, page=page)).status_code == 202
    assert (await _judged(entry)).status is EvidenceStatus.VERIFIED


async def test_a_step_set_to_a_section_counts_any_page_under_its_path(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _visit_step(target=f"{BRAND_ORIGIN}/menu/", pages="section")
    token = await _follow_step_link(client, app, entry, step)
    refused = await _beacon(client, token, page=f"{BRAND_ORIGIN}/menus")
    assert _json_error(refused)["code"] == "wrong_page"
    assert (await _beacon(client, token, page=f"{BRAND_ORIGIN}/menu/drinks")).status_code == 202
    assert (await _judged(entry)).status is EvidenceStatus.VERIFIED
    assert await Completion.filter(entry=entry, step=step).exists()


async def test_a_tampered_visit_token_is_not_counted(client: httpx.AsyncClient, app: Any) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    flipped = "A" if token[-5] != "A" else "B"
    # Changed, cut, or a token made for another purpose (the step link's).
    link_token = visit_link_token(_tokens(app), entry, step)
    for bad in (token[:-5] + flipped + token[-4:], token[:30], link_token):
        response = await _beacon(client, bad)
        assert response.status_code == 422
        assert _json_error(response)["code"] == "link_invalid"
    assert not await Evidence.filter(entry=entry).exists()


async def test_the_worker_refuses_a_report_from_another_page(app: Any) -> None:
    """Evidence kept before pages were compared is judged by the page rule too."""
    entry, step = await _playing()
    now = utcnow()
    report = await Evidence.create(
        nonce="elsewhere-" + entry.public_id[:16],
        entry=entry,
        step=step,
        reported_at=now,
        data={"started_at": now.isoformat(), "page_url": f"{BRAND_ORIGIN}/careers"},
    )
    judged = await completion.verify_evidence(report.id, links=LINKS)
    assert judged is not None and judged.status is EvidenceStatus.REJECTED
    assert judged.reason == "reported from another page"
    assert not await Completion.filter(entry=entry).exists()


async def test_visit_steps_stored_before_pages_were_compared_keep_working(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _playing()
    await Step.filter(id=step.id).update(config={"target_url": PAGE, "dwell_seconds": 0})
    await step.refresh_from_db()
    token = await _follow_step_link(client, app, entry, step)
    assert (await _beacon(client, token)).status_code == 202
    assert (await _judged(entry)).status is EvidenceStatus.VERIFIED


async def test_the_overlay_learns_when_the_visit_counted(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _visit_step()
    token = await _follow_step_link(client, app, entry, step)
    info = await client.get(
        f"/api/visits/{token}", params={"page": PAGE}, headers={"Origin": BRAND_ORIGIN}
    )
    body = info.json()
    assert (body["state"], body["here"], body["lang"]) == ("open", True, "en")
    assert 2 * 60 * 60 - 60 < body["expires_in"] <= 2 * 60 * 60
    assert body["text"]["found"] == "Step 3 of 3 found!"
    assert body["progress"] == "0 of 3 steps done"
    assert (await _status(client, token))["state"] == "open"

    assert (await _beacon(client, token)).status_code == 202
    await _judged(entry)
    counted = await _status(client, token)
    assert counted == {
        "state": "counted",
        "message": "It counted! 1 of 3 steps done.",
        "progress": "1 of 3 steps done",
    }


async def test_the_overlay_says_in_spanish_when_a_visit_did_not_count(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _playing(dwell_seconds=5)
    token = await _follow_step_link(client, app, entry, step)
    assert (await _beacon(client, token)).status_code == 202
    await _judged(entry)
    status = await _status(client, token)
    assert status["state"] == "rejected"
    assert status["message"] == (
        "Esta visita no ha contado. Vuelve al concurso e inténtalo de nuevo."
    )


async def test_the_overlay_knows_a_page_that_is_not_the_steps(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    for page, here in ((PAGE, True), (f"{BRAND_ORIGIN}/menu", False), ("", False)):
        info = await client.get(f"/api/visits/{token}", params={"page": page})
        assert info.json()["here"] is here
    assert info.json()["page_url"] == PAGE


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 600])
async def test_asking_where_an_unknown_visit_stands_gets_a_json_error(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get(f"/api/visits/{token}/status", headers={"Origin": BRAND_ORIGIN})
    assert response.status_code == 422
    assert _json_error(response)["code"] == "link_invalid"
    assert "access-control-allow-origin" not in response.headers


async def test_only_the_brands_pages_may_read_where_a_visit_stands(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _playing()
    token = await _follow_step_link(client, app, entry, step)
    for origin in ("https://evil.example", f"https://{BRAND_SITE}.evil.example", "null"):
        refused = await client.get(f"/api/visits/{token}/status", headers={"Origin": origin})
        assert refused.status_code == 200
        assert "access-control-allow-origin" not in refused.headers


async def test_asking_about_a_visit_is_rate_limited(settings: Settings, app: Any) -> None:
    limited = settings.model_copy(update={"visit_status_limit": "3/minute"})
    async with app_with(limited, {}) as own, browser(own) as visitor:
        entry, step = await _playing()
        token = await _follow_step_link(visitor, own, entry, step)
        for path in (f"/api/visits/{token}", f"/api/visits/{token}/status"):
            for _ in range(3):
                assert (await visitor.get(path)).status_code == 200
            refused = await visitor.get(path)
            assert refused.status_code == 429
            assert _json_error(refused)["code"] == "rate_limited"
        # Another visit has a limit of its own.
        other = await _follow_step_link(visitor, own, entry, step)
        assert (await visitor.get(f"/api/visits/{other}/status")).status_code == 200


# Steps that count the click alone, for brands that cannot install the snippet.


async def _click_page(client: httpx.AsyncClient, app: Any, entry: Entry, step: Step) -> str:
    """Open the step link as a browser would; return the form's CSRF token."""
    link = visit_link_token(_tokens(app), entry, step)
    opened = await client.get(f"/go/{link}", headers={"Accept-Language": "en"})
    assert opened.status_code == 200, opened.text
    assert "Following this link to shop.example.com completes the step." in page_text(opened)
    # The form's answer leads to the brand's site: the page's policy must allow it.
    assert f"https://{BRAND_SITE}:*" in opened.headers["content-security-policy"]
    return csrf_of(opened.text)


async def test_opening_a_click_only_link_records_nothing(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _visit_step(proof="click")
    await _click_page(client, app, entry, step)
    assert not await Evidence.filter(entry=entry).exists()


async def test_a_click_only_step_counts_the_click_as_weaker_evidence(
    client: httpx.AsyncClient, app: Any, worker: Any
) -> None:
    entry, step = await _visit_step(proof="click")
    assert step.config["dwell_seconds"] == 0
    csrf_token = await _click_page(client, app, entry, step)
    link = visit_link_token(_tokens(app), entry, step)
    followed = await client.post(f"/go/{link}", data={"csrf_token": csrf_token})
    assert followed.status_code == 303
    target = urlsplit(followed.headers["location"])
    assert (target.hostname, target.path) == (BRAND_SITE, "/origins")
    token = parse_qs(target.query)["gk"][0]

    report = await _judged(entry)
    assert report.status is EvidenceStatus.VERIFIED
    assert report.data["proof"] == "click"
    done = await Completion.get(entry=entry, step=step)
    assert done.points == step.points  # worth the same to the participant
    assert (await _status(client, token))["state"] == "counted"
    # A snippet on the page has nothing more to report.
    assert (await _beacon(client, token)).status_code == 409

    # Following it again keeps no second click.
    again = await client.post(f"/go/{link}", data={"csrf_token": csrf_token})
    assert again.status_code == 303
    assert await Evidence.filter(entry=entry).count() == 1


async def test_a_click_without_the_forms_token_records_nothing(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _visit_step(proof="click")
    await _click_page(client, app, entry, step)
    link = visit_link_token(_tokens(app), entry, step)
    for data in ({}, {"csrf_token": "forged"}):
        refused = await client.post(f"/go/{link}", data=data, headers={"Accept-Language": "en"})
        assert refused.status_code == 403
        assert "This form has expired" in page_text(refused)
    assert not await Evidence.filter(entry=entry).exists()


async def test_a_tampered_click_only_link_records_nothing(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _visit_step(proof="click")
    csrf_token = await _click_page(client, app, entry, step)
    genuine = visit_link_token(_tokens(app), entry, step)
    old = visit_link_token(_BackdatedTokens(app.state.gymkana.settings.secret_key), entry, step)
    for link in (genuine[:-3] + "xyz", old):
        refused = await client.post(f"/go/{link}", data={"csrf_token": csrf_token})
        assert refused.status_code == 422
    assert not await Evidence.filter(entry=entry).exists()


async def test_a_snippet_step_followed_by_a_form_records_nothing_yet(
    client: httpx.AsyncClient, app: Any
) -> None:
    entry, step = await _visit_step()
    opened = await client.get(f"/go/{visit_link_token(_tokens(app), entry, step)}")
    assert opened.status_code == 303
    link = visit_link_token(_tokens(app), entry, step)
    followed = await client.post(f"/go/{link}", data={"csrf_token": await csrf(client)})
    assert followed.status_code == 303
    assert not await Evidence.filter(entry=entry).exists()


@pytest.mark.parametrize(
    "settings", [{"pages": "everything"}, {"proof": "trust me"}, {"pages": "section\x00"}]
)
async def test_a_visit_step_with_unknown_choices_is_refused(
    database_url: str, settings: dict[str, str]
) -> None:
    brand, _ = await brand_with_marketer()
    contest = await live_contest(brand)
    with pytest.raises(InvalidInput):
        await authoring.add_step(
            contest,
            StepDraft(kind="visit", title="x", settings={"target_url": PAGE, **settings}),
            actor="test",
            now=utcnow(),
        )


async def test_the_console_sets_a_section_counted_on_the_click_and_labels_it_weaker(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    address = email("marketer")
    brand, _ = await brand_with_marketer(address)
    contest = await draft_contest(brand)
    path = f"/console/{brand.slug}/contests/{contest.id}"
    async with browser(app, language="en") as console:
        await sign_in(console, mailbox, address)
        form = await console.get(path)
        assert 'name="proof" value="click"' in form.text and 'name="pages"' in form.text
        added = await console.post(
            f"{path}/steps",
            data={
                "csrf_token": csrf_of(form.text),
                "kind": "visit",
                "title": "Our menu",
                "target_url": f"{BRAND_ORIGIN}/menu/",
                "dwell_seconds": "20",
                "pages": "section",
                "proof": "click",
            },
        )
        shown = await after_redirect(console, added)
    step = await Step.get(contest=contest)
    assert step.config == {
        "target_url": f"{BRAND_ORIGIN}/menu/",
        "dwell_seconds": 0,  # nothing measures it without the snippet
        "pages": "section",
        "proof": "click",
    }
    assert "and any page under it" in shown
    assert "counted on the click alone: weaker evidence" in shown


async def test_the_contest_page_offers_a_click_only_step_as_a_form_to_the_brands_site(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    entry, step = await _visit_step(proof="click")
    await entry.fetch_related("participant", "contest")
    address = entry.participant.email if entry.participant else None
    assert address is not None
    async with browser(app, language="en") as player:
        await sign_in(player, mailbox, address)
        page = await player.get(f"/c/{entry.contest.slug}")
    # The token carries the second it was signed: read the page's, do not rebuild it.
    found = re.search(r'<form method="post" action="/go/([^"]+)"', page.text)
    assert found is not None
    assert _tokens(app).read("visit-link", found.group(1), 60) == {
        "e": entry.public_id,
        "s": step.public_id,
    }
    assert "Following the link completes this step." in page_text(page)
    # Browsers apply form-action to where the form's answer redirects: the brand's site.
    policy = page.headers["content-security-policy"]
    assert f"form-action 'self' https://{BRAND_SITE}:* http://{BRAND_SITE}:*" in policy
    assert f"https://*.{BRAND_SITE}:*" in policy
