"""A marketer's whole journey through the console in a real browser (Debian's chromium),
moving between pages by links alone: a new brand, the snippet on its site and the
installation check, a contest in Spanish and English with its rules and five steps,
both previews, publication, entrants arriving on the dashboard, a personal reply to an
opinion and to a direct message (each emailed in the participant's language), an answer
on the wall, a flagged entry reviewed, and the draw with its certificate. axe-core checks
each console page on the way.

The participants take part from their own browsers through the app's real routes; the
worker is a real process; the app answers on loopback at the address its links name."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from contests.settings import Settings, load_settings
from tests.conftest import Mailbox, eventually, running_worker
from tests.factories import brand_with_marketer, csrf_of, email, page_text
from tests.support.axe import axe_script, violations
from tests.support.gymkana import chromium
from tests.support.servers import asgi_server_in_loop, free_port, wsgi_server
from tests.test_browser import CHROMIUM
from web.app import create_app

pytestmark = pytest.mark.browser

ZONE = "Europe/Madrid"


@dataclass
class BrandSite:
    """The brand's own site: its pages are whatever the marketer pasted into them."""

    pages: dict[str, str] = field(default_factory=dict)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = self.pages.get(environ["PATH_INFO"])
        if body is None:
            start_response("404 Not Found", [("Content-Type", "text/html")])
            return [b"gone"]
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]


@dataclass(frozen=True)
class Servers:
    database: str  # "sqlite" or "postgres"
    base: str
    app: Any
    site: str
    site_pages: BrandSite


@pytest.fixture(scope="module")
def brand_site() -> Iterator[tuple[str, BrandSite]]:
    site = BrandSite()
    with wsgi_server(site) as base:
        yield base, site


@pytest.fixture(scope="module")
async def servers(
    settings: Settings,
    brand_site: tuple[str, BrandSite],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Servers]:
    """The app at the address its own links and emails name, and a worker of its own
    (whose installation check looks for the snippet at that address)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    own = load_settings(
        **{
            **settings.model_dump(),
            "base_url": base,
            "queue_name": f"gymkana-journey-{secrets.token_hex(4)}",
        }
    )
    application = create_app(own, manage_database=False)
    async with (
        application.router.lifespan_context(application),
        asgi_server_in_loop(application, port) as served,
        running_worker(own, tmp_path_factory.mktemp("journey-worker")),
    ):
        assert served == base
        database = "postgres" if settings.database_url.startswith("postgres") else "sqlite"
        site, pages = brand_site
        yield Servers(database=database, base=base, app=application, site=site, site_pages=pages)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium(CHROMIUM) as launched:
        yield launched


def _steps(site: str) -> list[tuple[str, tuple[str, str], dict[str, str], bool]]:
    """Each step's kind, titles in Spanish and English, fields, and whether it is required."""
    quiz = {
        "question": "¿De qué región es el café?",
        "question_en": "Which region is the coffee from?",
        "answer_mode": "text",
        "accepted": "Huila",
    }
    opinion = {"question": "¿Qué café tostamos ahora?", "question_en": "What should we roast next?"}
    return [
        (
            "visit",
            ("Visita el origen", "Visit the origin"),
            {"target_url": f"{site}/origen", "dwell_seconds": "3"},
            False,
        ),
        ("code", ("Encuentra el código", "Find the code"), {"code": "HUILA-24"}, False),
        ("quiz", ("¿De dónde viene?", "Where is it from?"), quiz, False),
        ("opinion", ("Cuéntanos", "Tell us"), opinion, True),
        ("share", ("Compártelo", "Share it"), {"message": "¡Mira esto!"}, False),
    ]


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


async def _mail(mailbox: Mailbox, address: str, subject: str, before: int = 0) -> EmailMessage:
    async def arrived() -> EmailMessage | None:
        found = [m for m in mailbox.to(address)[before:] if subject in str(m["Subject"])]
        return found[-1] if found else None

    found: EmailMessage = await eventually(arrived, 20)
    return found


def _sign_in_path(mailbox: Mailbox, base: str, address: str) -> str:
    match = re.search(
        rf"{re.escape(base)}(/auth/email/[\w-]+)", Mailbox.text(mailbox.to(address)[-1])
    )
    assert match, "no sign-in link in the email"
    return match.group(1)


async def _marketer_signs_in(page: Page, mailbox: Mailbox, base: str, address: str) -> None:
    await page.goto(f"{base}/login?next=/console")
    await page.fill("#email", address)
    await page.click("main form button[type=submit]")
    await eventually(lambda: _has_mail(mailbox, address), 20)
    await page.goto(base + _sign_in_path(mailbox, base, address))
    await page.click("main form button[type=submit]")


async def _has_mail(mailbox: Mailbox, address: str, more_than: int = 0) -> bool:
    return len(mailbox.to(address)) > more_than


def _visitor(servers: Servers, language: str) -> httpx.AsyncClient:
    """A participant's own browser: its own cookies and network address."""
    transport = httpx.ASGITransport(
        app=servers.app,
        client=(f"10.8.{secrets.randbelow(250)}.{secrets.randbelow(250)}", 4321),
    )
    return httpx.AsyncClient(
        transport=transport, base_url=servers.base, headers={"Accept-Language": language}
    )


async def _form_token(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


async def _participant_signs_in(
    client: httpx.AsyncClient, mailbox: Mailbox, servers: Servers, address: str, name: str
) -> None:
    before = len(mailbox.to(address))
    sent = await client.post(
        "/login/email",
        data={"email": address, "csrf_token": await _form_token(client, "/login"), "next": "/"},
    )
    assert sent.status_code == 303, sent.text
    await eventually(lambda: _has_mail(mailbox, address, before), 20)
    link = _sign_in_path(mailbox, servers.base, address)
    used = await client.post(link, data={"csrf_token": await _form_token(client, link)})
    assert used.status_code == 303, used.text
    named = await client.post(
        "/me/profile",
        data={
            "csrf_token": await _form_token(client, "/me"),
            "display_name": name,
            "locale": str(client.headers["Accept-Language"]),
        },
    )
    assert named.status_code == 303, named.text


async def _enters_and_answers(client: httpx.AsyncClient, slug: str, words: str) -> None:
    contest = f"/c/{slug}"
    entered = await client.post(
        f"{contest}/enter",
        data={"csrf_token": await _form_token(client, contest), "consent": "yes"},
    )
    assert entered.status_code == 303, entered.text
    page = (await client.get(contest)).text
    opinion = re.search(r'id="opinion-([\w-]+)"', page)
    assert opinion, "no opinion form on the contest page"
    sent = await client.post(
        f"{contest}/steps/{opinion.group(1)}", data={"csrf_token": csrf_of(page), "answer": words}
    )
    assert sent.status_code == 303, sent.text


async def _signs_out(client: httpx.AsyncClient) -> None:
    out = await client.post("/logout", data={"csrf_token": await _form_token(client, "/me")})
    assert out.status_code == 303, out.text


async def _reload_until(page: Page, selector: str, text: str, seconds: float = 20) -> None:
    async def shows() -> bool:
        await page.reload()
        return text in await page.locator(selector).inner_text()

    await eventually(shows, seconds, interval=0.2)


async def test_a_marketer_runs_a_contest_from_the_console_alone(
    servers: Servers, browser: Browser, mailbox: Mailbox
) -> None:
    base = servers.base
    address = email("marta")
    await brand_with_marketer(address)
    marketer = await browser.new_context(locale="en-GB", bypass_csp=True)
    page = await marketer.new_page()
    # axe-core on each console page the marketer passes through; the pages are the same
    # on either database, so they are checked on SQLite.
    script = axe_script() if servers.database == "sqlite" else ""
    found: dict[str, list[str]] = {}

    async def axe_clean() -> None:
        if script:
            problems = await violations(page, script)
            if problems:
                found[page.url] = problems

    await _marketer_signs_in(page, mailbox, base, address)

    # A brand of its own, from the first brand's page.
    await page.click("text=Create another brand")
    brand_name = f"Tostadores {secrets.token_hex(2)}"
    await page.fill("#brand-name", brand_name)
    await page.fill("#brand-domains", "127.0.0.1")
    await page.fill("#brand-reply-to", "hola@tostadores.example")
    await page.click("text=Create the brand")
    await expect(page.locator("main")).to_contain_text("Brand created.")
    await expect(page.locator("h1")).to_have_text(brand_name)
    await axe_clean()

    # The tag, copied from the console into every page of the brand's site.
    tag = await page.locator("[data-testid=snippet]").inner_text()
    origin_page = "<html lang='es'><body><h1>Origen</h1><p>El café viene de Huila.</p>"
    servers.site_pages.pages["/origen"] = origin_page + tag + "</body></html>"

    # The contest, in Spanish and English.
    await page.click("text=New contest")
    spanish = f"Ruta de otoño {secrets.token_hex(2)}"
    now = datetime.now(ZoneInfo("UTC"))
    await page.fill("#title_es", spanish)
    await page.fill("#title_en", "Autumn trail")
    await page.fill("#description_es", "Descubre **la tienda** y gana.")
    await page.fill("#description_en", "Discover *the shop* and win.")
    await page.fill("#starts_at", _local(now - timedelta(minutes=5)))
    await page.fill("#ends_at", _local(now + timedelta(days=7)))
    await page.select_option("#timezone", ZONE)
    await page.click("main form button[type=submit]")
    await expect(page.locator("h1")).to_contain_text(spanish)
    contest_page = page.url

    await page.fill("#prize-name", "Una cesta de otoño")
    await page.fill("#prize-name-en", "An autumn basket")
    await page.click("#add-prize-form button[type=submit]")
    await expect(page.locator("#prizes tbody")).to_contain_text("Una cesta de otoño")

    # Five steps; the opinion is the one that puts an entry in the draw.
    for kind, titles, fields, required in _steps(servers.site):
        await page.click(f"details[data-kind={kind}] summary")
        form = page.locator(f"#add-{kind}-form")
        await form.locator("[name=title]").fill(titles[0])
        await form.locator("[name=title_en]").fill(titles[1])
        for name, value in fields.items():
            if name == "answer_mode":
                await form.locator(f"[name={name}][value={value}]").check()
            else:
                await form.locator(f"[name={name}]").fill(value)
        if not required:
            await form.locator("[name=required]").uncheck()
        await form.locator("button[type=submit]").click()
        await expect(page.locator("#form-error")).to_have_count(0)
        await expect(page.locator("#steps tbody")).to_contain_text(titles[0])
    await expect(page.locator("#steps tbody tr")).to_have_count(5)
    await axe_clean()

    # The installation check passes on the page the visit leads to.
    await page.click("[data-testid=watch-links] >> text=Check the installation")
    await page.click("text=Check the installation now")
    await _reload_until(
        page, "[data-testid=installation]", "The snippet is installed on this page."
    )
    await axe_clean()
    await page.click(f"main >> text={spanish}")
    assert page.url == contest_page

    # The rules, then the previews in both languages.
    await page.click("text=Rules and privacy notice")
    await page.fill("#rules_es", "## Bases\n\nUna participación por persona.")
    await page.fill("#rules_en", "## Rules\n\nOne entry per person.")
    await page.click("text=Save the rules")
    await expect(page.locator("main")).to_contain_text("Rules saved as version 1.")
    await axe_clean()
    await page.click(f"main >> text={spanish}")
    await page.click("[data-testid=preview-en]")
    await expect(page.locator("h1")).to_have_text("Autumn trail")
    await expect(page.locator("main")).to_contain_text("Tell us")
    await expect(page.locator("main")).to_contain_text("An autumn basket")
    await page.click("[data-testid=back-to-console]")
    await page.click("[data-testid=preview-es]")
    await expect(page.locator("h1")).to_have_text(spanish)
    await expect(page.locator("main")).to_contain_text("Una cesta de otoño")
    await expect(page.locator("main")).to_contain_text("Cuéntanos")
    await page.click("text=Lee las bases y el aviso de privacidad")
    await expect(page.locator("main")).to_contain_text("Una participación por persona.")
    await page.click("text=Volver al concurso")
    await expect(page.locator("h1")).to_have_text(spanish)
    # Back in the console, still in the marketer's own language.
    await page.click("[data-testid=back-to-console]")
    assert page.url == contest_page

    await page.check("#publish input[name=confirm]")
    await page.click("#publish button[type=submit]")
    await expect(page.locator("[data-testid=status]")).to_have_text("live")
    public_url = await page.locator("text=Public page:").locator("a").get_attribute("href")
    assert public_url and public_url.startswith(base + "/c/"), public_url
    slug = public_url.rsplit("/", 1)[1]
    await page.click("text=Dashboard")
    await expect(page.locator("[data-testid=entered]")).to_have_text("0")

    # Entrants arrive: Ana reads Spanish, Ben English; Carla and Dani share one browser.
    ana, ben = _visitor(servers, "es"), _visitor(servers, "en")
    shared = _visitor(servers, "es")
    people = {name: email(name.lower()) for name in ("Ana", "Ben", "Carla", "Dani")}
    await _participant_signs_in(ana, mailbox, servers, people["Ana"], "Ana")
    await _enters_and_answers(ana, slug, "Un café de Kenia, por favor.")
    await _participant_signs_in(ben, mailbox, servers, people["Ben"], "Ben")
    await _enters_and_answers(ben, slug, "A decaf that tastes of something.")
    for name in ("Carla", "Dani"):
        await _participant_signs_in(shared, mailbox, servers, people[name], name)
        await _enters_and_answers(shared, slug, f"Lo que sea, soy {name}.")
        await _signs_out(shared)

    await page.reload()
    await expect(page.locator("[data-testid=entered]")).to_have_text("4")
    await axe_clean()
    await expect(page.locator("[data-testid=finished]")).to_have_text("4")
    await expect(page.locator("[data-testid=waiting-review]")).to_have_text("2")

    # Ana's opinion, answered personally; she reads it on her page and in Spanish by email.
    await page.click("main >> text=" + spanish)
    await page.click("text=What participants tell you")
    # Her replies would be signed with a name made from her address: she signs as herself.
    await expect(page.locator("[data-testid=signature]")).to_contain_text("Marta-")
    await page.click("[data-testid=signature] >> text=Change your signature")
    await page.fill("#signature-name", "Marta")
    await page.click("text=Save my signature")
    await expect(page.locator("main")).to_contain_text("Your replies are now signed “Marta”.")
    await axe_clean()
    await page.locator("tr", has_text=spanish).locator(f"text={spanish}").click()
    await page.click("text=What participants tell you")
    await expect(page.locator("[data-testid=signature]")).to_contain_text("signed “Marta”.")
    said = page.locator("[data-testid=answers] > li", has_text="Un café de Kenia")
    await said.locator("textarea[name=reply]").fill("¡Apuntado, Ana! Llega en primavera.")
    await said.locator("text=Send my reply").click()
    await expect(page.locator("main")).to_contain_text("Reply sent to")
    await axe_clean()
    replied = await _mail(mailbox, people["Ana"], f"Marta, de {brand_name}, te ha respondido")
    assert "Llega en primavera." in Mailbox.text(replied)
    assert "Un café de Kenia" in Mailbox.text(replied)
    assert f"{base}/c/{slug}" in Mailbox.text(replied)
    on_her_page = re.search(
        r'data-testid="brand-reply".*?</section>', page_text(await ana.get(f"/c/{slug}")), re.S
    )
    assert on_her_page and "Llega en primavera." in on_her_page.group(0)
    assert "Marta" in on_her_page.group(0)

    # She lets the brand show it; the marketer puts it on the wall, and everyone sees it.
    own = (await ana.get(f"/c/{slug}")).text
    consent = re.search(r'action="(/c/[^"]+/steps/[\w-]+/publish)"', own)
    assert consent, "no consent form beside Ana's answer"
    agreed = await ana.post(consent.group(1), data={"csrf_token": csrf_of(own), "publish": "on"})
    assert agreed.status_code == 303, agreed.text
    await page.reload()
    said = page.locator("[data-testid=answers] > li", has_text="Un café de Kenia")
    await said.locator("text=Show it on the wall").click()
    await expect(
        page.locator("[data-testid=answers] > li", has_text="Un café de Kenia").locator(
            "[data-testid=on-wall]"
        )
    ).to_be_visible()
    reader = await browser.new_context(locale="en-GB")
    public = await reader.new_page()
    await public.goto(public_url)
    await expect(public.locator("h1")).to_have_text("Autumn trail")
    await expect(public.locator("[data-testid=wall]")).to_contain_text("Un café de Kenia")
    await expect(public.locator("[data-testid=wall]")).to_contain_text("Llega en primavera.")
    await reader.close()

    # Ben writes to the brand; the marketer answers from the inbox, and Ben reads it in
    # English on his page and by email.
    written = await ben.post(
        f"/c/{slug}/messages",
        data={
            "csrf_token": await _form_token(ben, f"/c/{slug}"),
            "message": "Do you ship to Lisbon?",
        },
    )
    assert written.status_code == 303, written.text
    await page.click("nav >> text=Inbox")
    await expect(page.locator("[data-testid=unread]")).to_contain_text("1 conversation waits")
    await page.click("[data-testid=conversations] >> text=Ben")
    await expect(page.locator("main")).to_contain_text("Do you ship to Lisbon?")
    await axe_clean()
    await page.fill("#message", "We do, Ben: three days by post.")
    await page.click("text=Send my answer")
    await expect(page.locator("main")).to_contain_text("signed")
    answered = await _mail(mailbox, people["Ben"], f"Marta, from {brand_name}, answered")
    assert "three days by post" in Mailbox.text(answered)
    assert "three days by post" in page_text(await ben.get(f"/c/{slug}"))

    # The two entries from one browser wait for review: one is cleared, one disqualified.
    await page.click(f"nav >> text={brand_name}")
    await page.click(f"main >> text={spanish}")
    await page.click("text=Review flagged entries")
    waiting = page.locator("[data-testid=waiting]")
    await expect(waiting).to_contain_text("same device as other entries")
    await axe_clean()
    await expect(waiting.locator("tbody tr")).to_have_count(2)
    await waiting.locator("tr", has_text="Carla").locator("text=Clear").click()
    await waiting.locator("tr", has_text="Dani").locator("text=Disqualify…").click()
    await page.fill("#reason", "A second account on the same computer.")
    await axe_clean()
    await page.click("text=Disqualify for good")
    await expect(page.locator("[data-testid=waiting-count]")).to_contain_text("0 entries")
    decided = page.locator("[data-testid=decided]")
    await expect(decided.locator("tr", has_text="Dani")).to_contain_text("disqualified")
    await expect(decided.locator("tr", has_text="Carla")).to_contain_text("cleared")
    out = await _mail(mailbox, people["Dani"], "está fuera del sorteo")
    assert "A second account on the same computer." in Mailbox.text(out)
    await page.click(f"main >> text={spanish}")
    await page.click("text=Dashboard")
    await expect(page.locator("[data-testid=waiting-review]")).to_have_text("0")
    await expect(page.locator("[data-testid=disqualified]")).to_have_text("1")

    # The draw: closed from the contest page, drawn by the worker, certified in public.
    await page.click(f"main >> text={spanish}")
    await page.check("#close input[name=confirm]")
    await page.click("#close button")
    await _reload_until(page, "#draw", "Public certificate", 30)
    winners = page.locator("[data-testid=winners]")
    assert people["Dani"] not in await winners.inner_text()
    first_id = (await winners.locator("tr.winner code").first.inner_text()).strip()
    await page.click("text=Public certificate")
    await expect(page.locator("#certificate-title")).to_be_visible()
    await axe_clean()
    certificate = json.loads(await page.locator("pre.certificate").inner_text())
    assert certificate["winners"] == 1 and certificate["order"][0] == first_id, certificate
    for client in (ana, ben, shared):
        await client.aclose()
    await marketer.close()
    assert not found, "\n".join(f"{url}:\n" + "\n".join(said) for url, said in found.items())
