"""Every page a participant sees, in Spanish and in English, in a real browser (Debian's
chromium) the width of a phone: no axe-core violation (WCAG 2.1 A and AA, and axe's best
practices: landmarks, headings), no sideways scrolling at 360 px, a skip link, visible
focus, and the answer to a submission focused where the participant is looking.

The contests are seeded the way the demo seeds its own (web/demo.py), so every step kind
the demo shows is on these pages; axe-core comes from npm (scripts/ensure-axe.sh)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, ViewportSize

from contests import (
    answers,
    claims,
    closing,
    contact,
    conversations,
    entries,
    lifecycle,
    optin,
    review,
    rules,
    signals,
    wall,
)
from contests.authoring import ContestDraft
from contests.brands import add_marketer, create_brand, update_look
from contests.clock import utcnow
from contests.models import (
    Answer,
    Brand,
    Contest,
    Conversation,
    Entry,
    MarketerRole,
    Participant,
    Step,
    Winner,
)
from contests.settings import Settings
from contests.steps.qr import QR
from tests.conftest import Mailbox, eventually
from tests.factories import (
    LINKS,
    browser,
    csrf,
    email,
    link_in,
    participant,
    sign_in,
    unique,
)
from tests.support.axe import axe_script, violations
from tests.support.gymkana import chromium
from tests.support.images import stored_logo
from tests.support.servers import asgi_server_in_loop
from tests.test_browser import CHROMIUM
from web.demo import seed_contest

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 360, "height": 740}
LANGUAGES = {"es": "es-ES", "en": "en-GB"}
# The brand's own site is not served here: no page below follows a step's link.
SITE = "http://127.0.0.1:9"
SESSION_COOKIE = "gymkana"
PAGES = [
    "home",
    "home-signed-in",
    "sign-in",
    "sign-in-link-sent",
    "sign-in-confirm",
    "contest-scheduled",
    "contest-live-signed-out",
    "contest-live-not-entered",
    "contest-entered",
    "contest-all-done",
    "contest-closed",
    "contest-drawn",
    "contest-alternate",
    "contest-not-won",
    "claim-open",
    "claim-claimed",
    "verify-email",
    "contest-disqualified",
    "contest-winner-disqualified",
    "draw-closed",
    "draw-drawn",
    "account",
    "qr-scan-signed-out",
    "qr-scan-entered",
    "contest-asks-age-and-country",
    "contest-rules-changed",
    "rules",
    "not-found",
]


DEMO_MARGIN = lifecycle.DEFAULT_MARGIN_SECONDS


@dataclass(frozen=True)
class Journey:
    """The app served on loopback, a signed-in participant's session, and its pages."""

    base: str
    session: str
    # Each page: its path, and whether the participant is signed in to see it.
    pages: dict[str, tuple[str, bool]]
    entered: Contest
    code_step: str


async def _contest(brand: Brand, *, starts_in: timedelta = -timedelta(minutes=5)) -> Contest:
    now = utcnow()
    draft = ContestDraft(
        title=unique("La ruta del café"),
        description="Recorre nuestra web como si fuera una cata y encuentra el código.",
        starts_at=now + starts_in,
        ends_at=now + starts_in + timedelta(days=7),
    )
    return await seed_contest(brand, draft, SITE, now)


async def _take_part(contest: Contest, person: Participant, *, finish: bool) -> Entry:
    entry = await entries.enter(contest, person, consented=True, locale="es", now=utcnow())
    if finish:
        for step in await Step.filter(contest=contest):
            await entries.record_completion(entry, step, utcnow(), links=LINKS)
    return entry


async def _drawn_with(
    brand: Brand, person: Participant, wanted: Callable[[Winner | None], bool]
) -> Contest:
    """A drawn contest among the person and five others in which the person's draw came
    out as ``wanted``: the draw is fair, so contests are drawn until one does."""
    for _ in range(40):
        contest = await _contest(brand)
        await _take_part(contest, person, finish=True)
        for _ in range(5):
            await _take_part(contest, await participant(name="Otra"), finish=True)
        assert await closing.close(contest.id, utcnow())
        # The demo beacon's round named at the close comes out a margin later.
        later = utcnow() + timedelta(seconds=DEMO_MARGIN + 5)
        assert await closing.run_draw(contest.id, later, links=LINKS)
        mine = await Winner.filter(contest=contest, entry__participant=person).first()
        if wanted(mine):
            return contest
    raise AssertionError("no draw came out as wanted in 40 contests")


async def _sign_in_link(app: Any, mailbox: Mailbox) -> str:
    """The path of an emailed sign-in link, still unused (its page only asks to confirm)."""
    address = email("confirm")
    async with browser(app) as asker:
        await asker.post(
            "/login/email",
            data={"email": address, "csrf_token": await csrf(asker), "next": "/"},
        )

    async def arrived() -> bool:
        return bool(mailbox.to(address))

    await eventually(arrived)
    return link_in(mailbox, address)


@pytest.fixture(scope="module")
async def journey(
    app: Any, settings: Settings, mailbox: Mailbox, worker: Any
) -> AsyncIterator[Journey]:
    if settings.database_url.startswith("postgres"):
        pytest.skip("the pages are the same on either database; they are checked on SQLite")
    brand = await create_brand(
        name=unique("Café Aurora"),
        domains=["127.0.0.1", "localhost"],
        reply_to="hola@cafe-aurora.example",
        now=utcnow(),
    )
    # The brand's look (its logo in the header, its colour on buttons) is on every
    # contest page; Ana manages a brand too, so the header shows her the console.
    logo = stored_logo(settings, (300, 90))
    await update_look(brand, colour="#8a3b12", logo=logo, actor="test", now=utcnow())
    address = email("ana")
    await add_marketer(brand, address, role=MarketerRole.VIEWER, actor="test", now=utcnow())
    async with browser(app) as client:
        await sign_in(client, mailbox, address)
        session = client.cookies[SESSION_COOKIE]
    person = await Participant.get(email=address)
    person.display_name = "Ana"
    await person.save(update_fields=["display_name"])

    scheduled = await _contest(brand, starts_in=timedelta(days=2))
    not_entered, entered, all_done, closed, drawn = [await _contest(brand) for _ in range(5)]
    await _take_part(entered, person, finish=False)
    for contest in (all_done, closed, drawn):
        await _take_part(contest, person, finish=True)
    for contest in (closed, drawn):
        assert await closing.close(contest.id, utcnow())
    # The claim form asks for every detail it can, so that each field is checked.
    await claims.set_claim_form(
        drawn, days=14, fields=list(claims.CLAIM_FIELDS), actor="test", now=utcnow()
    )
    # The demo beacon's round named at the close comes out a margin later.
    later = utcnow() + timedelta(seconds=DEMO_MARGIN + 5)
    assert await closing.run_draw(drawn.id, later, links=LINKS)

    # A contest asking age and country at entry, and one whose rules changed after Ana
    # entered: she is asked to accept them again.
    declared = await _contest(brand)
    declared.min_age, declared.countries = 18, ["ES", "PT", "MX"]
    await declared.save(update_fields=["min_age", "countries"])
    changed = await _contest(brand)
    await _take_part(changed, person, finish=False)
    await rules.save(
        changed,
        {"es": {"rules": "## Bases nuevas\n\n- Una\n- Dos", "privacy": "Datos"}},
        actor="test",
        now=utcnow(),
    )
    [won] = await Winner.filter(contest=drawn, entry__participant=person)
    claimed = await _drawn_with(brand, person, lambda w: w is not None and not w.alternate)
    [win] = await Winner.filter(contest=claimed, entry__participant=person)
    details = {
        "postal_address": "Calle Mayor 1\n28013 Madrid",
        "phone": "+34 600 000 000",
        "size": "M",
        "note": "Por las tardes",
    }
    await claims.claim(win, person, details, now=utcnow())
    alternate = await _drawn_with(brand, person, lambda w: w is not None and w.alternate)
    not_won = await _drawn_with(brand, person, lambda w: w is None)
    # A winner the brand disqualified afterwards: the page says why.
    taken_back = await _drawn_with(brand, person, lambda w: w is not None and not w.alternate)
    [lost] = await Winner.filter(contest=taken_back, entry__participant=person)
    await claims.disqualify(
        taken_back,
        lost.rank,
        "La dirección de envío no es de un país admitido.",
        actor="test",
        now=utcnow(),
        links=LINKS,
    )
    tokens = app.state.gymkana.tokens

    # Reviewed and disqualified, with a reason; and a conversation with the brand, which
    # every contest page of the brand and the account page show.
    disqualified = await _contest(brand)
    marketer = await add_marketer(
        brand, email("marta"), name="Marta", role=MarketerRole.EDITOR, actor="test", now=utcnow()
    )
    await marketer.fetch_related("brand")
    out = await _take_part(disqualified, person, finish=False)
    await signals.flag(out, signals.Reason.SAME_DEVICE, utcnow(), at_least=2)
    await review.disqualify(
        marketer,
        disqualified,
        out.id,
        "Diez participaciones desde el mismo navegador en un minuto.",
        now=utcnow(),
        links=LINKS,
    )
    await conversations.write_to_brand(person, brand, "¿Abrís el domingo?", now=utcnow())
    talk = await Conversation.get(participant=person, brand=brand)
    await conversations.answer(marketer, talk.id, "¡Sí, de 10 a 14!", now=utcnow(), links=LINKS)

    # On a finished contest's page: Ana's own answer, with the choice to publish it, and
    # another participant's answer on the wall with the brand's reply.
    opinion = await Step.get(contest=all_done, kind="opinion")
    mine = await Entry.get(contest=all_done, participant=person)
    await answers.save_words(mine, opinion, "Un etíope lavado, por favor.", utcnow())
    theirs = await entries.enter(
        all_done, await participant(name="Luis"), consented=True, locale="es", now=utcnow()
    )
    await answers.save_words(theirs, opinion, "Más descafeinado, que esté rico.", utcnow())
    await wall.consent(theirs, opinion, True, now=utcnow())
    said = await Answer.get(entry=theirs, step=opinion)
    await answers.reply(marketer, said.id, "¡Apuntado, Luis!", now=utcnow(), links=LINKS)
    await wall.show(marketer, all_done, said.id, True, now=utcnow())

    # Ana asked to hear from the brand: her account page offers to stop it.
    await optin.opt_in(person, brand, locale="es", now=utcnow(), contest=entered)

    # The shop's poster: a printed QR code of a step of the contest the participant entered.
    printed = await Step.filter(contest=entered, kind="qr").order_by("position").first()
    assert printed is not None
    poster = f"/c/{entered.slug}/qr/{printed.public_id}/{QR.printed_code(printed)}"
    pages = {
        "home": ("/", False),
        "home-signed-in": ("/", True),
        "sign-in": ("/login?next=/", False),
        "sign-in-link-sent": ("/login/sent", False),
        "sign-in-confirm": (await _sign_in_link(app, mailbox), False),
        "contest-scheduled": (f"/c/{scheduled.slug}", True),
        "contest-live-signed-out": (f"/c/{not_entered.slug}", False),
        "contest-live-not-entered": (f"/c/{not_entered.slug}", True),
        "contest-entered": (f"/c/{entered.slug}", True),
        "contest-all-done": (f"/c/{all_done.slug}", True),
        "contest-closed": (f"/c/{closed.slug}", True),
        "contest-drawn": (f"/c/{drawn.slug}", True),
        "contest-alternate": (f"/c/{alternate.slug}", True),
        "contest-not-won": (f"/c/{not_won.slug}", True),
        "claim-open": (f"/claim/{claims.claim_token(tokens, won)}", True),
        "claim-claimed": (f"/claim/{claims.claim_token(tokens, win)}", True),
        "verify-email": (
            "/me/email/" + tokens.sign(contact.PURPOSE, {"p": person.public_id, "e": address}),
            False,
        ),
        "contest-disqualified": (f"/c/{disqualified.slug}", True),
        "contest-winner-disqualified": (f"/c/{taken_back.slug}", True),
        "draw-closed": (f"/c/{closed.slug}/draw", True),
        "draw-drawn": (f"/c/{drawn.slug}/draw", True),
        "account": ("/me", True),
        "qr-scan-signed-out": (poster, False),
        "qr-scan-entered": (poster, True),
        "contest-asks-age-and-country": (f"/c/{declared.slug}", True),
        "contest-rules-changed": (f"/c/{changed.slug}", True),
        "rules": (f"/c/{changed.slug}/rules", True),
        "not-found": ("/c/no-such-contest", False),
    }
    assert list(pages) == PAGES
    code_step = await Step.get(contest=entered, kind="code")
    async with asgi_server_in_loop(app) as base:
        yield Journey(base, session, pages, entered, code_step.public_id)


@pytest.fixture(scope="module")
async def chrome() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM) as launched:
        yield launched


@pytest.fixture(scope="module")
def axe_source() -> str:
    return axe_script()


@asynccontextmanager
async def _phone(
    chrome: Browser,
    journey: Journey,
    language: str,
    *,
    signed_in: bool,
    zone: str = "Europe/Madrid",
    inject: bool = True,
) -> AsyncIterator[Page]:
    """A phone-sized tab. axe-core is injected as an inline script, which our pages' CSP
    forbids: such tabs set the CSP aside, and the others keep it to show our own script
    works under it."""
    context = await chrome.new_context(
        locale=LANGUAGES[language], viewport=PHONE, timezone_id=zone, bypass_csp=inject
    )
    if signed_in:
        await context.add_cookies(
            [{"name": SESSION_COOKIE, "value": journey.session, "url": journey.base}]
        )
    try:
        yield await context.new_page()
    finally:
        await context.close()


OVERFLOWING = """width => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > width + 0.5)
  .slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + (typeof e.className === "string" && e.className
      ? "." + e.className.split(" ").join(".") : ""))"""


async def _problems(page: Page, axe_source: str) -> list[str]:
    """What is wrong with the page as it is now: axe's violations, and any overflow."""
    problems = await violations(page, axe_source)
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    if width > PHONE["width"]:
        wide = await page.evaluate(OVERFLOWING, PHONE["width"])
        problems.append(f"- scrolls sideways: {width} px wide at {PHONE['width']} px: {wide}")
    return problems


async def _focused(page: Page) -> dict[str, Any]:
    info = await page.evaluate(
        """() => {
          const e = document.activeElement;
          const step = e.closest("li.step");
          return {
            id: e.id, tag: e.tagName.toLowerCase(), role: e.getAttribute("role"),
            feedback: e.hasAttribute("data-feedback"), text: e.textContent.trim(),
            step: step ? step.id : null, className: String(e.className),
            outline: getComputedStyle(e).outlineStyle, top: e.getBoundingClientRect().top,
          };
        }"""
    )
    assert isinstance(info, dict)
    return info


async def _type_a_wrong_code(page: Page, journey: Journey) -> dict[str, Any]:
    """Type a wrong code into the code step; what has the focus on the page that answers."""
    step = page.locator(f"#step-{journey.code_step}")
    await step.locator("input[name=code]").fill("not the code")
    async with page.expect_navigation():
        await step.locator("button[type=submit]").click()
    await page.wait_for_load_state("load")
    return await _focused(page)


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("name", PAGES)
async def test_every_participant_page_passes_axe_and_fits_a_phone(
    journey: Journey, chrome: Browser, axe_source: str, name: str, language: str
) -> None:
    path, signed_in = journey.pages[name]
    async with _phone(chrome, journey, language, signed_in=signed_in) as page:
        response = await page.goto(journey.base + path)
        assert response is not None
        assert response.status == (404 if name == "not-found" else 200), path
        assert await page.get_attribute("html", "lang") == language
        problems = await _problems(page, axe_source)
    assert not problems, f"{name} in {language} ({path}):\n" + "\n".join(problems)


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_a_wrong_code_is_announced_in_its_step_with_the_focus_on_it(
    journey: Journey, chrome: Browser, axe_source: str, language: str
) -> None:
    path = journey.pages["contest-entered"][0]
    async with _phone(chrome, journey, language, signed_in=True) as page:
        await page.goto(journey.base + path)
        focused = await _type_a_wrong_code(page, journey)
        field = page.locator(f"#step-{journey.code_step} input[name=code]")
        described_by = await field.get_attribute("aria-describedby")
        problems = await _problems(page, axe_source)
    assert focused["feedback"] and focused["role"] == "alert", focused
    assert focused["step"] == f"step-{journey.code_step}", focused
    assert described_by == focused["id"]
    assert not problems, f"after a wrong code, in {language}:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("language", "zone", "written_zone", "rewritten", "clock"),
    [
        # Another clock: the reader's time, the contest's kept beside it (in English on
        # a twelve-hour clock, as the reader's browser writes it).
        ("en", "America/New_York", "Eastern", True, "%I:%M %p"),
        # Another zone on the contest's clock: the time as the server wrote it.
        ("es", "Europe/Paris", "hora de España (Madrid)", False, "%H:%M"),
    ],
)
async def test_the_pages_script_runs_under_the_csp_writing_times_on_the_readers_clock(
    journey: Journey,
    chrome: Browser,
    language: str,
    zone: str,
    written_zone: str,
    rewritten: bool,
    clock: str,
) -> None:
    path = journey.pages["contest-entered"][0]
    ends = journey.entered.ends_at.astimezone(ZoneInfo(zone))
    async with _phone(chrome, journey, language, signed_in=True, zone=zone, inject=False) as page:
        blocked: list[str] = []
        page.on(
            "console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None
        )
        await page.goto(journey.base + path)
        written = await page.locator("main time").first.inner_text()
        beside = page.locator("main .contest-time")
        kept = await beside.first.inner_text() if await beside.count() else None
        # The answer to a submission is focused under the same CSP.
        focused = await _type_a_wrong_code(page, journey)
    assert ends.strftime(clock) in written and written_zone in written, written
    assert (kept is not None) == rewritten, kept
    if kept is not None:
        madrid = journey.entered.ends_at.astimezone(ZoneInfo("Europe/Madrid"))
        assert kept.endswith(f"{madrid:%H:%M} Spain (Madrid) Time)"), kept
    assert focused["feedback"] and focused["step"] == f"step-{journey.code_step}", focused
    assert not blocked, blocked


@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_the_skip_link_comes_first_and_the_focus_is_visible(
    journey: Journey, chrome: Browser, language: str
) -> None:
    async with _phone(chrome, journey, language, signed_in=False, inject=False) as page:
        await page.goto(journey.base + "/")
        await page.keyboard.press("Tab")
        skip = await _focused(page)
        await page.keyboard.press("Enter")
        landed = await _focused(page)
        await page.keyboard.press("Tab")
        next_in_main = await page.evaluate(
            "document.querySelector('main').contains(document.activeElement)"
        )
        button_outline = await _outline_of_keyboard_focus(page, journey.base + "/login")
    assert skip["className"] == "skip-link" and skip["top"] >= 0, skip
    assert skip["outline"] == "solid", skip
    assert landed["id"] == "main", landed
    assert next_in_main
    assert button_outline == "solid"


async def _outline_of_keyboard_focus(page: Page, url: str) -> str:
    """The outline the first button of a page shows when reached by keyboard."""
    await page.goto(url)
    for _ in range(40):
        await page.keyboard.press("Tab")
        info = await _focused(page)
        if info["tag"] == "button":
            return str(info["outline"])
    return "no button reached by Tab"
