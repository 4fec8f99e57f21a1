"""The console's list of a contest's entrants: filtered, a page at a time, and exported.

Pages are read with a keyset (the entry id, newest first), never with an offset, and a
page costs the same few queries at the first page as at the ten-thousandth: the page's
entries, then their completions and flags by the page's own ids (a bounded list). The
export walks the same rows oldest first, a batch at a time, so that a million entrants
stream out in constant memory.

Filters are clauses on the entry: adding one is a field of ``EntrantFilter`` and a
clause in ``_where``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from contests.entries import weight
from contests.models import EntryStatus, Step
from contests.queries import execute
from contests.steps.registry import KINDS

PAGE_SIZE = 50
EXPORT_BATCH = 1_000
SEARCH_LENGTH = 100


@dataclass(frozen=True)
class EntrantFilter:
    """Which entrants to list; ``None`` means either way."""

    search: str = ""  # part of the name or the email address, whatever the case
    step: int | None = None  # the id of a step they have done
    flagged: bool | None = None
    eligible: bool | None = None  # in the draw as things stand now
    # The two-letter code the entrant declared, for a contest that asks for one.
    country: str = ""

    @property
    def active(self) -> bool:
        return bool(self.search or self.country) or any(
            value is not None for value in (self.step, self.flagged, self.eligible)
        )


@dataclass(frozen=True)
class EntrantRow:
    entry_id: int
    public_id: str
    name: str
    email: str
    status: EntryStatus
    entered_at: datetime
    steps_done: int
    points: int
    unverified_points: int  # of steps done on the participant's word (shares)
    eligible: bool
    flags: list[str]
    country: str = ""  # declared at entry; empty when the contest did not ask

    @property
    def chances(self) -> int:
        return weight(self.points)

    @property
    def deleted(self) -> bool:
        """The participant deleted their account: the entry stays, nameless."""
        return not self.name and not self.email


@dataclass(frozen=True)
class EntrantsPage:
    rows: list[EntrantRow]
    steps: int
    # Keyset cursors: the newer page ends before ``newer_than``, the older one after
    # ``older_than``; None when there is no such page.
    newer_than: int | None
    older_than: int | None


@dataclass(frozen=True)
class _Steps:
    count: int
    required: list[int]
    unverified: list[int]


async def _steps(contest_id: int) -> _Steps:
    steps = await Step.filter(contest_id=contest_id).values("id", "kind", "required")
    return _Steps(
        count=len(steps),
        required=[s["id"] for s in steps if s["required"]],
        unverified=[s["id"] for s in steps if s["kind"] in KINDS and not KINDS[s["kind"]].proves],
    )


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


# Only placeholders and fixed SQL are formatted into the clauses: values are parameters.
def _where(contest_id: int, filters: EntrantFilter, steps: _Steps) -> tuple[str, list[object]]:
    clauses = ["e.contest_id = ?"]
    values: list[object] = [contest_id]
    if filters.search:
        clauses.append(
            "(LOWER(p.display_name) LIKE ? ESCAPE '\\' OR LOWER(p.email) LIKE ? ESCAPE '\\')"
        )
        values += [_like(filters.search)] * 2
    if filters.step is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM completion c WHERE c.entry_id = e.id AND c.step_id = ?)"
        )
        values.append(filters.step)
    if filters.country:
        clauses.append("e.declared_country = ?")
        values.append(filters.country)
    if filters.flagged is not None:
        negation = "" if filters.flagged else "NOT "
        flagged = "EXISTS (SELECT 1 FROM fraud_flag f WHERE f.entry_id = e.id)"
        clauses.append(f"{negation}{flagged}")
    if filters.eligible is not None:
        # The rule of ``entries.eligible``: not disqualified, every required step done.
        rule = "e.status <> ?"
        values.append(EntryStatus.DISQUALIFIED.value)
        if steps.required:
            rule += (
                " AND (SELECT COUNT(*) FROM completion c WHERE c.entry_id = e.id "  # noqa: S608
                f"AND c.step_id IN ({_marks(steps.required)})) = ?"
            )
            values += [*steps.required, len(steps.required)]
        clauses.append(f"({rule})" if filters.eligible else f"NOT ({rule})")
    return " AND ".join(clauses), values


async def _select(
    contest_id: int,
    filters: EntrantFilter,
    steps: _Steps,
    *,
    newest_first: bool,
    after: int | None,
    limit: int,
) -> list[EntrantRow]:
    """Up to ``limit`` entrants in id order (descending if ``newest_first``), strictly
    beyond the id ``after`` in that order."""
    where, values = _where(contest_id, filters, steps)
    if after is not None:
        where += " AND e.id < ?" if newest_first else " AND e.id > ?"
        values.append(after)
    # Only placeholders and fixed SQL are formatted in: every value is a parameter.
    sql = (
        "SELECT e.id, e.public_id, e.status, e.created_at, p.display_name, p.email, "  # noqa: S608
        "e.declared_country "
        f"FROM entry e LEFT JOIN participant p ON p.id = e.participant_id WHERE {where} "
        f"ORDER BY e.id {'DESC' if newest_first else 'ASC'} LIMIT ?"
    )
    if filters.search and connections.get("default").capabilities.dialect == "postgres":
        # After five runs of one prepared statement PostgreSQL may keep a plan made for
        # no words in particular, which walks every entry (three times as long at
        # 100,000 entrants): each search is planned for its own words instead.
        async with in_transaction():
            await execute("SET LOCAL plan_cache_mode = force_custom_plan")
            rows = await execute(sql, [*values, limit])
    else:
        rows = await execute(sql, [*values, limit])
    return await _with_progress([tuple(row) for row in rows], steps)


def _moment(value: Any) -> datetime:
    # PostgreSQL gives datetimes, SQLite the text Tortoise stored.
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _with_progress(rows: list[tuple[Any, ...]], steps: _Steps) -> list[EntrantRow]:
    """The rows' completions and flags, read by the rows' own ids (a page or a batch)."""
    if not rows:
        return []
    ids = [int(row[0]) for row in rows]
    required = (
        f"SUM(CASE WHEN c.step_id IN ({_marks(steps.required)}) THEN 1 ELSE 0 END)"
        if steps.required
        else "0"
    )
    unverified = (
        f"SUM(CASE WHEN c.step_id IN ({_marks(steps.unverified)}) THEN c.points ELSE 0 END)"
        if steps.unverified
        else "0"
    )
    done: dict[int, tuple[int, int, int, int]] = {
        int(r[0]): (int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0))
        for r in await execute(
            f"SELECT c.entry_id, COUNT(*), SUM(c.points), {required}, {unverified} "  # noqa: S608
            f"FROM completion c WHERE c.entry_id IN ({_marks(ids)}) GROUP BY c.entry_id",
            [*steps.required, *steps.unverified, *ids],
        )
    }
    flags: dict[int, list[str]] = {}
    for r in await execute(
        f"SELECT entry_id, reason FROM fraud_flag WHERE entry_id IN ({_marks(ids)}) "  # noqa: S608
        "ORDER BY id",
        ids,
    ):
        flags.setdefault(int(r[0]), []).append(str(r[1]))
    result = []
    for entry_id, public_id, status, created_at, name, email, country in rows:
        count, points, required_done, unverified_points = done.get(entry_id, (0, 0, 0, 0))
        entry_status = EntryStatus(status)
        result.append(
            EntrantRow(
                entry_id=int(entry_id),
                public_id=str(public_id),
                name=str(name or ""),
                email=str(email or ""),
                status=entry_status,
                entered_at=_moment(created_at),
                steps_done=count,
                points=points,
                unverified_points=unverified_points,
                eligible=entry_status is not EntryStatus.DISQUALIFIED
                and required_done == len(steps.required),
                flags=flags.get(int(entry_id), []),
                country=str(country or ""),
            )
        )
    return result


async def page(
    contest_id: int,
    filters: EntrantFilter,
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int | None = None,
) -> EntrantsPage:
    """A page of entrants, newest first: the first page, the one after ``older_than``
    (the last id of the page before) or the one before ``newer_than``."""
    size = size or PAGE_SIZE
    steps = await _steps(contest_id)
    if newer_than is not None:
        rows = await _select(
            contest_id, filters, steps, newest_first=False, after=newer_than, limit=size + 1
        )
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        more_older = True
    else:
        rows = await _select(
            contest_id, filters, steps, newest_first=True, after=older_than, limit=size + 1
        )
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = older_than is not None
    return EntrantsPage(
        rows=rows,
        steps=steps.count,
        newer_than=rows[0].entry_id if rows and more_newer else None,
        older_than=rows[-1].entry_id if rows and more_older else None,
    )


async def export(
    contest_id: int, filters: EntrantFilter, *, batch: int | None = None
) -> AsyncIterator[list[EntrantRow]]:
    """Every entrant the filter keeps, oldest first, a batch at a time."""
    batch = batch or EXPORT_BATCH
    steps = await _steps(contest_id)
    after: int | None = None
    while True:
        rows = await _select(
            contest_id, filters, steps, newest_first=False, after=after, limit=batch
        )
        if not rows:
            return
        yield rows
        after = rows[-1].entry_id
