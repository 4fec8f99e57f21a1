"""What `gymkana demo` seeds, seen through the app: the demo contest reads fully in
English as in Spanish, and its marketer is greeted and signs replies by their name."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from contests import conversations
from contests.clock import utcnow
from contests.models import Contest, ConversationMessage
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    browser,
    csrf_of,
    marketer_console,
    page_text,
    participant,
    player,
)
from web.demo import BRAND_SLUG, MARKETER_EMAIL, seed

# The brand's own site is not served here: no page below follows a step's link.
SITE = "http://127.0.0.1:9"


async def _demo_contest() -> Contest:
    # Seeding is once per database: a second call keeps what the first made.
    await seed(SITE)
    return await Contest.get(brand__slug=BRAND_SLUG).prefetch_related("brand")


async def test_the_demo_contest_reads_in_english_and_nothing_is_missing(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest = await _demo_contest()
    async with player(app, mailbox, contest, language="en") as reader:
        english = page_text(await reader.get(f"/c/{contest.slug}"))
        # The pages around it name the contest in English too.
        for around in ("/", f"/c/{contest.slug}/draw", f"/c/{contest.slug}/rules"):
            assert "The coffee trail" in page_text(await reader.get(around)), around
    assert "The coffee trail" in english and "La ruta del café" not in english
    assert "A year of coffee" in english and "A tasting for two" in english
    assert "Discover where our coffee comes from" in english
    assert "The code is hidden in our menu" in english
    assert "Bring your friends" in english
    # The share step's message is the page's own, in the reader's language.
    assert quote("Take part in “The coffee trail” with me!", safe="/") in english
    # Nothing of the Spanish texts shows through to an English reader.
    for spanish in ("Recorre nuestra web", "Descubre de dónde", "Cuéntanos", "¿Quién recoge"):
        assert spanish not in english

    async with browser(app, language="es") as visitor:
        spanish_page = page_text(await visitor.get(f"/c/{contest.slug}"))
    assert "La ruta del café" in spanish_page and "The coffee trail" not in spanish_page

    async with marketer_console(app, mailbox, MARKETER_EMAIL) as console:
        page = page_text(await console.get(f"/console/{contest.brand.slug}/contests/{contest.id}"))
    assert "Everything is written in English." in page
    assert "Missing in" not in page


async def test_the_demo_marketer_is_greeted_and_signs_replies_by_name(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    contest = await _demo_contest()
    fan = await participant(name="Lucía", locale="es")
    asked = await conversations.write_to_brand(
        fan, contest.brand, "¿Hacéis envíos a Canarias?", now=utcnow(), contest=contest
    )
    conversation_id: int = asked.conversation_id  # type: ignore[attr-defined]
    async with marketer_console(app, mailbox, MARKETER_EMAIL) as console:
        home = page_text(await console.get("/"))
        assert "Hello, Marta!" in home and "Marketer" not in home

        thread = f"/console/{contest.brand.slug}/inbox/{conversation_id}"
        token = csrf_of((await console.get(thread)).text)
        sent = await console.post(
            f"{thread}/answer", data={"csrf_token": token, "message": "¡Sí, y sin coste!"}
        )
        assert "signed “Marta”" in await after_redirect(console, sent)
        assert "Marta, for the brand" in page_text(await console.get(thread))
    reply = await ConversationMessage.get(conversation_id=conversation_id, from_brand=True)
    assert reply.signed == "Marta"
