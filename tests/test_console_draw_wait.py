"""Between the close and the draw, the console's contest page says what the draw waits
for: the list is frozen and published, the round it waits for and when that round is
due in the marketer's own time zone, and, when the round is late, that the worker keeps
trying. In English and in Spanish."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from contests import closing
from contests.models import Brand, Contest, Marketer
from tests.conftest import Mailbox
from tests.factories import LINKS, browser, page_text, sign_in
from tests.test_beacon import (
    ROUND_10024141,
    ROUND_AT,
    _closed_on_quicknet,
    _fetching,
    _nobody_listens,
)

ZONE = "America/Mexico_City"


def _due(locale: str) -> str:
    return format_datetime(ROUND_AT.astimezone(ZoneInfo(ZONE)), "d MMM y, HH:mm zzz", locale=locale)


async def _console_says(
    app: Any, mailbox: Mailbox, marketer: Marketer, contest: Contest
) -> dict[str, str]:
    """The contest's draw section, as the marketer reads it in each language."""
    brand = await Brand.get(id=contest.brand_id)  # type: ignore[attr-defined]
    said = {}
    for language in ("en", "es"):
        async with browser(app, language=language) as console:
            await sign_in(console, mailbox, marketer.email)
            text = page_text(await console.get(f"/console/{brand.slug}/contests/{contest.id}"))
        section = re.search(r'<section id="draw">.*?</section>', text, re.S)
        assert section, "the contest page has its draw section"
        said[language] = " ".join(re.sub(r"<[^>]+>", " ", section.group(0)).split())
    return said


async def test_the_console_says_the_draw_waits_for_its_round_and_when_it_is_late(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    relay = _nobody_listens()
    contest = await _closed_on_quicknet((relay,))
    marketer = await Marketer.filter(brand_id=contest.brand_id).first()  # type: ignore[attr-defined]
    assert marketer is not None
    await Marketer.filter(id=marketer.id).update(time_zone=ZONE)
    round_number = ROUND_10024141.number

    said = await _console_says(app, mailbox, marketer, contest)
    assert (
        "The list is frozen (3 eligible entries) and published. The draw waits for round "
        f"{round_number} of the drand network, due {_due('en')}."
    ) in said["en"]
    assert "The worker draws as soon as the round is out." in said["en"]
    assert "the worker is drawing" not in said["en"] and "is late" not in said["en"]
    assert (
        "La lista está congelada (3 participaciones que cumplen los requisitos) y publicada. "
        f"El sorteo espera a la ronda {round_number} de la red drand, prevista para "
        f"{_due('es')}."
    ) in said["es"]

    # Due, and the relay cannot be reached: the worker tried, and keeps trying.
    late = ROUND_AT + timedelta(seconds=10)
    assert await closing.run_draw(contest.id, late, links=LINKS, fetching=_fetching(relay)) == []
    said = await _console_says(app, mailbox, marketer, contest)
    assert f"Round {round_number} is late or its relays cannot be reached." in said["en"]
    assert "The worker keeps trying" in said["en"]
    assert "the worker is drawing" not in said["en"]
    assert f"La ronda {round_number} se retrasa" in said["es"]
    assert "lo sigue intentando" in said["es"]
