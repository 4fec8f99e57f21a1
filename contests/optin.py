"""Hearing from the brand again: a separate opt-in, never ticked for the participant, to
hear from a brand after its contests.

What they ticked is kept word for word, in their language, with the time; they withdraw
it from their account page whenever they like. The brand downloads the list of those
who opted in and have not withdrawn, a batch at a time, and each download is audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime

from tortoise.exceptions import IntegrityError

from contests import audit
from contests.errors import N_, NotFound
from contests.i18n import translate
from contests.models import Brand, BrandOptIn, Contest, Marketer, Participant

# The words next to the box on the entry form, as the participant reads and ticks them.
OPT_IN_TEXT = N_(
    "I would like to hear from %(brand)s after the contest: news and offers by email. "
    "I can stop at any time from my account."
)
BATCH = 1000
COLUMNS = ("name", "email", "language", "opted_in_at", "contest", "text")


def opt_in_text(brand: Brand, locale: str) -> str:
    return translate(OPT_IN_TEXT, locale, brand=brand.name)


async def opt_in(
    participant: Participant,
    brand: Brand,
    *,
    locale: str,
    now: datetime,
    contest: Contest | None = None,
) -> BrandOptIn:
    """Record the wish with the words shown; given again after a withdrawal, anew."""
    fields = {
        "contest": contest,
        "text": opt_in_text(brand, locale),
        "locale": locale,
        "given_at": now,
        "withdrawn_at": None,
    }
    try:
        row, created = await BrandOptIn.get_or_create(
            brand=brand, participant=participant, defaults=fields
        )
    except IntegrityError:
        row, created = await BrandOptIn.get(brand=brand, participant=participant), False
    if not created and row.withdrawn_at is not None:
        await BrandOptIn.filter(id=row.id).update(**fields)
        await row.refresh_from_db()
    return row


async def withdraw(participant: Participant, brand_slug: str, *, now: datetime) -> BrandOptIn:
    row = (
        await BrandOptIn.filter(
            participant=participant, brand__slug=brand_slug, withdrawn_at__isnull=True
        )
        .select_related("brand")
        .first()
    )
    if row is None:
        raise NotFound(N_("You are not on this brand's list."), "not_opted_in")
    row.withdrawn_at = now
    await row.save(update_fields=["withdrawn_at"])
    return row


async def opt_ins_of(participant: Participant) -> list[BrandOptIn]:
    """The participant's wishes still in force, for their account page."""
    return (
        await BrandOptIn.filter(participant=participant, withdrawn_at__isnull=True)
        .select_related("brand")
        .order_by("given_at")
    )


async def list_size(brand: Brand) -> int:
    return await BrandOptIn.filter(brand=brand, withdrawn_at__isnull=True).count()


def _cell(value: str) -> str:
    # A spreadsheet runs a cell that starts like a formula: names come from people.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def export_csv(role: Marketer, *, now: datetime) -> AsyncIterator[str]:
    """The brand's list as CSV text, in pieces: a batch of rows at a time, keyed on the
    row's id, so that memory stays flat however long the list. The download is audited
    before the first byte."""
    await audit.record(
        actor=role.email,
        action="opt_ins.exported",
        brand=role.brand,
        now=now,
        rows=await list_size(role.brand),
    )
    return _rows(role.brand)


async def _rows(brand: Brand) -> AsyncIterator[str]:
    yield _line(COLUMNS)
    after = 0
    while True:
        batch = (
            await BrandOptIn.filter(brand=brand, withdrawn_at__isnull=True, id__gt=after)
            .select_related("participant", "contest")
            .order_by("id")
            .limit(BATCH)
        )
        if not batch:
            return
        yield "".join(
            _line(
                (
                    row.participant.display_name,
                    row.participant.email or "",
                    row.locale,
                    row.given_at.isoformat(),
                    row.contest.title if row.contest else "",
                    row.text,
                )
            )
            for row in batch
        )
        after = batch[-1].id


def _line(values: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(v) for v in values])
    return out.getvalue()
