"""`gymkana demo`: the web app, a worker and a small brand site in one process, on SQLite.

A newcomer runs one command and can play a whole contest: sign in through the demo mailbox,
follow a visit step to the brand's site, find the secret code and a quiz's answer there,
scan the QR codes of the shop's poster and of the tasting's screen (shown on a demo page),
tell the brand what they think, and close the contest from the console to watch the draw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from contests import beacon, claims
from contests.authoring import ContestDraft, StepDraft, add_prize, add_step, create_contest
from contests.brands import add_marketer, create_brand
from contests.clock import utcnow
from contests.db import tortoise_config
from contests.errors import ConfigurationError
from contests.ids import slugify
from contests.lifecycle import publish
from contests.models import Brand, Contest, ContestStatus, MarketerRole, Step
from contests.settings import Settings, load_settings
from oauth import email_links
from oauth.identities import Profile, sign_in
from web.app import app_links, create_app
from web.startup import check_services, migrate
from workers.settings import build_workers, serve
from workers.settings import close as close_workers
from workers.settings import stop as stop_workers

SITE_DIR = Path(__file__).resolve().parent / "demo_site"
# The brand pages name the app at its default address, as a real brand site would: in the
# snippet tag its marketer pasted and in its link to the contest.
PASTED_APP_ORIGIN = "http://127.0.0.1:8000"

BRAND_NAME = "Café Aurora"
BRAND_SLUG = slugify(BRAND_NAME)
MARKETER_EMAIL = "marketer@demo.gymkana.test"
# Greeted by name, and the name the brand's replies to participants are signed with.
MARKETER_NAME = "Marta"
MENU_CODE = "AURORA-2026"
# The rotating code on the tasting's screen: short, so that trying the demo shows it change.
TASTING_SCREEN_SECONDS = 15
# Named on the origin page of the brand's site, in both languages.
QUIZ_ANSWERS = ("Doña Marleny", "Marleny")
ACTOR = "demo"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
WILDCARD_HOSTS = ("", "0.0.0.0", "::")  # noqa: S104 - names of "every interface", not a bind


@dataclass(frozen=True)
class DemoContest:
    """What the banner needs to know about the seeded contest, fresh or from an earlier run."""

    slug: str
    status: ContestStatus
    site_origin: str


def run_demo(host: str, port: int, site_port: int) -> None:
    browser_host = _browser_host(host)
    try:
        # The demo brand site is on loopback: let the installation check fetch it.
        settings = load_settings(
            demo=True,
            base_url=f"http://{browser_host}:{port}",
            install_check_allow_private=True,
        )
    except ConfigurationError as exc:
        sys.exit(f"gymkana: invalid settings: {exc}")
    # The worker's cron logs a line every few seconds: keep the banner readable.
    for name in ("arq", "tortoise"):
        logging.getLogger(name).setLevel(logging.WARNING)
    site_origin = f"http://{browser_host}:{site_port}"
    # Listening first means a busy port fails before anything is seeded or printed.
    app_socket = _listen(host, port, "--port")
    site_socket = _listen(host, site_port, "--site-port")
    try:
        asyncio.run(_demo(settings, site_origin, app_socket, site_socket))
    except KeyboardInterrupt:
        # Ctrl-C before serving started (during migrations or seeding): nothing to report.
        pass
    finally:
        app_socket.close()
        site_socket.close()
    print("Gymkana demo stopped.", flush=True)


def _browser_host(host: str) -> str:
    """Where a browser on this machine reaches a server bound to `host`."""
    return "127.0.0.1" if host in WILDCARD_HOSTS else host


def _listen(host: str, port: int, option: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        sys.exit(
            f"gymkana: cannot listen on {host}:{port} ({exc.strerror}). Choose another {option}."
        )
    return sock


async def _demo(
    settings: Settings, site_origin: str, app_socket: socket.socket, site_socket: socket.socket
) -> None:
    await check_services(settings)
    await migrate(settings)
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    try:
        seeded = await seed(site_origin)
        demo = await _demo_contest()
        app = create_app(settings, manage_database=False)
        print(_banner(settings, app, demo, seeded=seeded, site_origin=site_origin), flush=True)
        # Created after Tortoise.init, so the servers' and the worker's tasks share its context.
        await _serve_all(settings, app, app_socket, site_socket)
    finally:
        await Tortoise.close_connections()


# --- Seeding -----------------------------------------------------------------------------


async def seed(site_origin: str) -> bool:
    """Create the demo brand and its live contest, once: later runs keep what people did."""
    async with in_transaction():
        if await Brand.filter(slug=BRAND_SLUG).exists():
            return False
        now = utcnow()
        host = urlsplit(site_origin).hostname or "127.0.0.1"
        domains = [*LOOPBACK_NAMES, *([host] if host not in LOOPBACK_NAMES else [])]
        brand = await create_brand(
            name=BRAND_NAME,
            domains=domains,
            reply_to="hola@cafe-aurora.example",
            now=now,
            actor=ACTOR,
        )
        await add_marketer(
            brand, MARKETER_EMAIL, name=MARKETER_NAME, role=MarketerRole.OWNER, actor=ACTOR, now=now
        )
        await _seed_marketer_account(now)
        await seed_contest(brand, _contest_draft(now), site_origin, now)
    return True


async def _seed_marketer_account(now: datetime) -> None:
    """The marketer's account, as their first sign-in by email makes it but with their
    name: made from the address, it would greet them as "Marketer"."""
    await sign_in(
        Profile(
            provider=email_links.PROVIDER,
            subject=MARKETER_EMAIL,
            email=MARKETER_EMAIL,
            email_verified=True,
            display_name=MARKETER_NAME,
        ),
        locale="es",
        now=now,
    )


async def seed_contest(
    brand: Brand, draft: ContestDraft, site_origin: str, now: datetime
) -> Contest:
    """A published contest with the demo's prizes and its gymkana, every step of it: the
    demo's own, and the tests' that look at every page a participant sees in it."""
    contest = await create_contest(brand, draft, actor=ACTOR, now=now)
    await _add_prizes(contest, now)
    for step in _step_drafts(site_origin):
        await add_step(contest, step, actor=ACTOR, now=now)
    # Coffee goes by post: the winners' claim form asks where to send it.
    await claims.set_claim_form(
        contest, days=14, fields=["postal_address", "phone"], actor=ACTOR, now=now
    )
    # The demo runs offline: its draw mixes in a round of its own local beacon, whose
    # key is public, and every page and certificate that depends on it says so.
    await publish(contest, actor=ACTOR, now=now, network=beacon.demo_network(now))
    return contest


def _contest_draft(now: datetime) -> ContestDraft:
    return ContestDraft(
        title="La ruta del café",
        description=(
            "Recorre nuestra web como si fuera una cata: descubre de dónde viene el café que "
            "tostamos cada semana, pásate por nuestras tiendas y encuentra el código secreto "
            "escondido en la carta. Cada paso suma papeletas para el sorteo."
        ),
        texts={
            "en": {
                "title": "The coffee trail",
                "description": (
                    "Wander through our site as if it were a tasting: find out where the "
                    "coffee we roast every week comes from, drop by our shops and hunt down "
                    "the secret code hidden in our menu. Every step earns you more tickets "
                    "for the draw."
                ),
            }
        },
        # Started a minute ago so the contest is live as soon as the demo is up.
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=7),
        timezone="Europe/Madrid",
        alternates=2,
    )


async def _add_prizes(contest: Contest, now: datetime) -> None:
    await add_prize(
        contest,
        name="Un año de café",
        description="Un paquete de 250 g de nuestro café de temporada cada mes, durante un año.",
        quantity=1,
        actor=ACTOR,
        now=now,
        texts={
            "en": {
                "name": "A year of coffee",
                "description": "A 250 g bag of our seasonal coffee every month, for a whole year.",
            }
        },
    )
    await add_prize(
        contest,
        name="Cata para dos",
        description="Una cata guiada de tres orígenes en nuestra tienda de Malasaña, para dos.",
        quantity=2,
        actor=ACTOR,
        now=now,
        texts={
            "en": {
                "name": "A tasting for two",
                "description": (
                    "A guided tasting of three origins at our Malasaña shop, for you and "
                    "someone you like."
                ),
            }
        },
    )


def _step_drafts(site_origin: str) -> list[StepDraft]:
    return [
        StepDraft(
            kind="visit",
            title="Descubre de dónde viene nuestro café",
            clue=(
                "Visita la página «Origen» de nuestra web y quédate unos segundos: allí "
                "contamos qué fincas de Huila y Yirgacheffe nos envían cada saco."
            ),
            points=2,
            required=True,
            settings={"target_url": f"{site_origin}/es/origen.html", "dwell_seconds": 5},
            texts={
                "en": {
                    "title": "Discover where our coffee comes from",
                    "clue": (
                        "Visit the “Origin” page of our site and stay a few seconds: it tells "
                        "you which farms in Huila and Yirgacheffe send us every sack."
                    ),
                }
            },
        ),
        StepDraft(
            kind="visit",
            title="Encuentra tu tienda más cercana",
            clue="Echa un vistazo a nuestras tiendas: ¿cuál te pilla más cerca?",
            points=1,
            required=False,
            settings={"target_url": f"{site_origin}/es/tiendas.html", "dwell_seconds": 5},
            texts={
                "en": {
                    "title": "Find your nearest shop",
                    "clue": "Take a look at our shops: which one is closest to you?",
                }
            },
        ),
        StepDraft(
            kind="code",
            title="El código secreto de la carta",
            clue=(
                "El código está escondido en nuestra carta, en la web de Café Aurora "
                f"({site_origin}/es/carta.html). Escríbelo aquí."
            ),
            points=3,
            required=True,
            settings={"code": MENU_CODE},
            texts={
                "en": {
                    "title": "The menu's secret code",
                    "clue": (
                        "The code is hidden in our menu, on Café Aurora's site "
                        f"({site_origin}/en/menu.html). Type it in here."
                    ),
                }
            },
        ),
        StepDraft(
            kind="qr",
            title="El cartel de la tienda",
            clue=(
                "En nuestra tienda de Malasaña hay un cartel junto a la caja con un código QR: "
                "escanéalo con la cámara del móvil."
            ),
            points=1,
            required=False,
            texts={
                "en": {
                    "title": "The poster in our shop",
                    "clue": (
                        "In our Malasaña shop there is a poster by the till with a QR code: "
                        "scan it with your phone's camera."
                    ),
                }
            },
        ),
        StepDraft(
            kind="qr",
            title="La pantalla de la cata",
            clue=(
                "En la cata de los sábados proyectamos un código QR que cambia cada "
                f"{TASTING_SCREEN_SECONDS} segundos: escanéalo allí mismo, una foto no sirve."
            ),
            points=2,
            required=False,
            settings={"rotate_seconds": TASTING_SCREEN_SECONDS},
            texts={
                "en": {
                    "title": "The screen at the tasting",
                    "clue": (
                        "At our Saturday tastings we show a QR code that changes every "
                        f"{TASTING_SCREEN_SECONDS} seconds: scan it right there, a photo of it "
                        "won't do."
                    ),
                }
            },
        ),
        StepDraft(
            kind="quiz",
            title="¿Quién recoge nuestro café en Huila?",
            clue=(
                "La respuesta está en la página «Origen» de nuestra web "
                f"({site_origin}/es/origen.html): allí te presentamos a quien recoge cada "
                "cereza a mano en la Finca La Esperanza."
            ),
            points=2,
            required=False,
            settings={
                "question": "¿Cómo se llama quien recoge a mano el café de la Finca La Esperanza?",
                "answer_mode": "text",
                "accepted": "\n".join(QUIZ_ANSWERS),
                "max_attempts": "3",
            },
            texts={
                "en": {
                    "title": "Who picks our coffee in Huila?",
                    "clue": (
                        "The answer is on the “Origin” page of our site "
                        f"({site_origin}/en/origin.html): there we introduce you to the "
                        "person who picks every cherry by hand at Finca La Esperanza."
                    ),
                    "question": "What is the name of the person who picks the coffee at "
                    "Finca La Esperanza by hand?",
                }
            },
        ),
        StepDraft(
            kind="opinion",
            title="Cuéntanos",
            clue="Queremos saber qué te gustaría encontrar en tu próxima taza.",
            points=1,
            required=False,
            settings={
                "question": "¿Qué café te gustaría que tostáramos la próxima temporada, y por qué?",
                "min_length": "10",
                "max_length": "600",
            },
            texts={
                "en": {
                    "title": "Tell us",
                    "clue": "We'd love to know what you'd like to find in your next cup.",
                    "question": "Which coffee would you like us to roast next season, and why?",
                }
            },
        ),
        StepDraft(
            kind="share",
            title="Cuéntaselo a tus amigos",
            clue="Comparte la ruta del café donde quieras: tu enlace lleva tu código personal.",
            points=1,
            required=False,
            # No message of its own: the one the page offers is in each reader's language.
            texts={
                "en": {
                    "title": "Tell your friends",
                    "clue": (
                        "Share the coffee trail wherever you like: your link carries your own code."
                    ),
                }
            },
        ),
        StepDraft(
            kind="referral",
            title="Trae a tus amigos",
            clue=(
                "Cada amigo que entre por tu enlace o tu código QR y complete un paso "
                "te suma papeletas."
            ),
            points=2,
            required=False,
            settings={"max_referrals": 5},
            texts={
                "en": {
                    "title": "Bring your friends",
                    "clue": (
                        "Every friend who comes in through your link or your QR code and "
                        "completes a step earns you more tickets."
                    ),
                }
            },
        ),
    ]


async def _demo_contest() -> DemoContest | None:
    contest = await Contest.filter(brand__slug=BRAND_SLUG).order_by("-id").first()
    if contest is None:
        return None
    step = await Step.filter(contest=contest, kind="visit").order_by("position").first()
    target = urlsplit(str(step.config.get("target_url", "")) if step else "")
    return DemoContest(
        slug=contest.slug, status=contest.status, site_origin=f"{target.scheme}://{target.netloc}"
    )


# --- The banner --------------------------------------------------------------------------


def _banner(
    settings: Settings,
    app: Starlette,
    demo: DemoContest | None,
    *,
    seeded: bool,
    site_origin: str,
) -> str:
    def url(name: str, **params: str) -> str:
        return settings.base_url + str(app.url_path_for(name, **params))

    slug = demo.slug if demo is not None else slugify(_contest_draft(utcnow()).title)

    lines = [
        "",
        "Gymkana demo is running. Press Ctrl-C to stop it.",
        "",
        f"  Participant site  {url('home')}",
    ]
    if demo is not None:
        lines.append(f"  Demo contest      {url('contest', slug=demo.slug)}")
    lines += [
        f"  Brand site        {site_origin}/  (es: {site_origin}/es/, en: {site_origin}/en/)",
        f"  Console           {url('console')}  (sign in as {MARKETER_EMAIL})",
    ]
    if settings.mail_captured:
        lines.append(
            f"  Demo mailbox      {url('demo_mailbox')}  (no SMTP_URL: mail stays here, "
            "open your sign-in link from it)"
        )
    else:
        lines.append("  Mail              sent through SMTP_URL")
    lines += [
        "  Code step         the secret code is on the brand's menu page "
        f"({site_origin}/es/carta.html)",
        f"  QR steps          {url('demo_qr')}  (the shop's poster and the tasting's screen: "
        "scan them, or open the link beneath each)",
        f"  Database          {settings.database_url}"
        + ("  (demo data created now)" if seeded else "  (demo data from an earlier run)"),
        *_notes(demo, site_origin, settings),
        "",
        "Walkthrough:",
        f"  1. Open the demo contest ({url('contest', slug=slug)}), press “Sign in to take "
        "part” and give any email address.",
        "  2. Follow “Demo mailbox” at the top of the page and click the sign-in link in the "
        "newest message.",
        "  3. Back on the contest, accept the rules and press “Take part”.",
        "  4. Follow the first visit step: stay 5 s on the brand page; the overlay says when it "
        "counted.",
        "  5. Find the code on the brand's menu page (its home page's button leads back to the "
        "contest) and type it into the code step: with these two required steps done, you are "
        "in the draw.",
        f"     Scan the QR steps' codes at {url('demo_qr')} (or open the link beneath each).",
        "  6. The quiz's answer is on the brand's origin page; then tell the brand what you "
        "think in the last step.",
        "     The contest has three prizes and two alternates: for an alternate to be drawn, "
        "enter as four people or more",
        "     (sign out, then sign in with another address), each doing the two required steps.",
        f"  7. In another browser or a private window, sign in as {MARKETER_EMAIL}, follow "
        "“Console” at the top, "
        "open the contest, tick the confirmation and press “Close now and draw”.",
        "  8. Follow the link to the public draw page: the frozen list, its digest and the chain "
        "log are published at once; the draw waits for the demo beacon's named round (about "
        "half a minute) and runs on it. Reload the page to see the certificate.",
        "  9. Download the certificate and the entry chain log there and check them with the "
        "command the page shows:",
        f"     .venv/bin/gymkana verify {slug}-draw.json --chain {slug}-chain.txt",
        " 10. Signed in as a winner, open their prize email in the demo mailbox and claim the "
        "prize through its link.",
        " 11. In the console, open “Winners and claims” and disqualify a winner with a reason: "
        "they are told why, and the next alternate gets the prize, each by an email in the "
        "demo mailbox.",
        "",
    ]
    return "\n".join(lines)


def _notes(demo: DemoContest | None, site_origin: str, settings: Settings) -> list[str]:
    """Warn when an earlier run's data does not fit this one, and say how to start over."""
    if demo is None:
        problems = ["the demo brand has no contest"]
    else:
        problems = []
        if demo.status is not ContestStatus.LIVE:
            problems.append(f"the demo contest is {demo.status.value}")
        if demo.site_origin != site_origin:
            problems.append(f"its visit steps lead to the brand site at {demo.site_origin}")
    if not problems:
        return []
    path = settings.sqlite_path()
    start_over = f"delete {path} to start over" if path else "use an empty database to start over"
    return [f"  Note: {'; '.join(problems)} (seeded by an earlier run): {start_over}."]


# --- Serving -----------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals alone: the demo stops all its parts together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def brand_csp(app_url: str) -> str:
    """The strict policy a careful brand's site sends: the snippet needs only the app's
    origin for its script and its requests, no inline script or style."""
    parts = urlsplit(app_url)
    app_origin = f"{parts.scheme}://{parts.netloc}"
    return (
        f"default-src 'self'; script-src 'self' {app_origin}; connect-src 'self' {app_origin}; "
        "style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'; require-trusted-types-for 'script'"
    )


class _BrandPages(StaticFiles):
    """The brand's static site, its links to the app pointed at wherever the demo app
    listens, its pages under a strict Content-Security-Policy."""

    def __init__(self, app_origin: str) -> None:
        super().__init__(directory=SITE_DIR, html=True)
        self.app_origin = app_origin

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        path = Path(full_path)
        if path.suffix != ".html":
            return super().file_response(full_path, stat_result, scope, status_code)
        html = path.read_text(encoding="utf-8").replace(
            f'"{PASTED_APP_ORIGIN}/', f'"{self.app_origin}/'
        )
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={"Content-Security-Policy": brand_csp(self.app_origin)},
        )


def brand_site(app_origin: str) -> Starlette:
    return Starlette(routes=[Mount("/", app=_BrandPages(app_origin))])


async def _serve_all(
    settings: Settings, app: Starlette, app_socket: socket.socket, site_socket: socket.socket
) -> None:
    app_server = _Server(
        uvicorn.Config(
            app,
            log_level="warning",
            # As `gymkana serve`: forwarded headers only from the proxies named in the settings.
            proxy_headers=bool(settings.trusted_proxy_list),
            forwarded_allow_ips=settings.trusted_proxy_list,
        )
    )
    site_server = _Server(uvicorn.Config(brand_site(settings.base_url), log_level="warning"))
    workers = build_workers(settings, app_links(settings))

    def stop() -> None:
        for server in (app_server, site_server):
            server.should_exit = True
        stop_workers(workers, signal.SIGINT)

    def on_signal() -> None:
        # A second Ctrl-C stops waiting for open connections, as plain uvicorn does.
        for server in (app_server, site_server):
            server.force_exit = server.should_exit
        stop()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(_part(app_server.serve([app_socket]), stop))
            group.create_task(_part(site_server.serve([site_socket]), stop))
            group.create_task(_part(serve(workers), stop))
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await close_workers(workers)


async def _part(work: Awaitable[None], stop: Callable[[], None]) -> None:
    """Run one part of the demo; when it ends, for whatever reason, the others follow."""
    try:
        await work
    finally:
        stop()
