"""Entering a contest, progress through its steps, points and eligibility."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from contests import draw, mail, referrals, signals
from contests.eligibility import check_declared
from contests.errors import N_, Conflict, InvalidInput, NotAllowed
from contests.ids import public_id
from contests.lifecycle import RUNNING, accepting_entries
from contests.links import Links
from contests.models import Completion, Contest, Entry, EntryStatus, Participant, Step
from contests.queries import ids
from contests.referrals import Arrival
from contests.signals import Origin


@dataclass(frozen=True)
class StepProgress:
    step: Step
    number: int
    done: bool
    unlocked: bool


@dataclass(frozen=True)
class Progress:
    entry: Entry
    steps: list[StepProgress]
    points: int
    eligible: bool

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.steps if s.done)

    @property
    def chances(self) -> int:
        return weight(self.points)

    @property
    def next_step(self) -> StepProgress | None:
        """The first step the participant can do now, whose clue leads on."""
        return next((row for row in self.steps if row.unlocked and not row.done), None)


def weight(points: int) -> int:
    """Every entry has one chance in the draw, and every point is one more."""
    return 1 + points


def eligible(status: EntryStatus, required: set[int], done: set[int] | dict[int, int]) -> bool:
    """In the draw: not disqualified, with every required step done."""
    return status is not EntryStatus.DISQUALIFIED and all(step in done for step in required)


def eligible_lines_sql(required_steps: int) -> str:
    """The same two rules as ``eligible`` and ``weight``, in SQL, for freezing a list of
    a million entries without bringing them into Python: each eligible entry's line of
    the published list without its line feed ("pseudonym weight", see
    ``draw.canonical_line``), for entries with ids in [?, ?) that entered by the close.
    Parameters, in order: the id range, the close (completions after it do not count),
    the contest's id, the id range again, the close again, the disqualified status,
    then the required steps' ids and their number. A test holds both versions to the
    same answers."""
    required = (
        f"HAVING COUNT(CASE WHEN c.step_id IN ({', '.join('?' * required_steps)}) THEN 1 END) = ?"
        if required_steps
        else ""
    )
    # Only placeholders are formatted in: every value is a parameter.
    return (
        "SELECT e.public_id || ' ' || (1 + COALESCE(SUM(c.points), 0)) FROM entry e "  # noqa: S608
        # The range on the completions too, so that a batch reads its own stretch of
        # their index instead of every completion of the database.
        "LEFT JOIN completion c ON c.entry_id = e.id AND c.entry_id >= ? AND c.entry_id < ? "
        "AND c.completed_at <= ? "
        "WHERE e.contest_id = ? AND e.id >= ? AND e.id < ? AND e.created_at <= ? "
        f"AND e.status <> ? GROUP BY e.id, e.public_id {required}"
    )


async def enter(
    contest: Contest,
    participant: Participant,
    *,
    consented: bool,
    locale: str,
    now: datetime,
    origin: Origin | None = None,
    arrival: Arrival | None = None,
    declared_age: int | None = None,
    declared_country: str | None = None,
) -> Entry:
    """Enter a participant; ``origin`` says from which device and network, ``arrival``
    through whose referral link. Both feed the fraud signals, which flag, never refuse.
    The age and country the participant declared are checked against the contest's
    eligibility and kept on the entry."""
    if not consented:
        raise InvalidInput(
            N_("To take part, accept the contest rules and the privacy notice."),
            "consent_required",
        )
    check_declared(contest, declared_age, declared_country)
    # The contest row is locked so entries join the hash chain one at a time.
    async with in_transaction():
        locked = await Contest.select_for_update().get(id=contest.id)
        if not accepting_entries(locked, now):
            raise Conflict(N_("This contest is not open for entries right now."), "not_open")
        if await Entry.filter(contest_id=contest.id, participant=participant).exists():
            raise Conflict(N_("You have already entered this contest."), "already_entered")
        pseudonym = public_id()
        link = draw.chain_link(locked.entry_chain_head, pseudonym, now)
        try:
            entry = await Entry.create(
                contest_id=contest.id,
                participant=participant,
                public_id=pseudonym,
                locale=locale,
                consent_version=locked.rules_version,
                consented_at=now,
                chain_hash=link,
                created_at=now,
                device_hash=origin.device_hash if origin else None,
                network_hash=origin.network_hash if origin else None,
                declared_age=declared_age if contest.min_age else None,
                declared_country=declared_country if contest.countries else None,
            )
        except IntegrityError:
            raise Conflict(
                N_("You have already entered this contest."), "already_entered"
            ) from None
        locked.entry_chain_head = link
        locked.entry_count += 1
        await locked.save(update_fields=["entry_chain_head", "entry_count"])
        await signals.entry_arrived(entry, participant.email, now)
        if arrival is not None:
            await referrals.record_arrival(entry, participant, arrival, now)
    return entry


async def entry_of(contest: Contest, participant: Participant | None) -> Entry | None:
    if participant is None:
        return None
    return await Entry.filter(contest=contest, participant=participant).first()


async def progress(entry: Entry) -> Progress:
    steps = await Step.filter(contest_id=entry.contest_id).order_by("position", "id")  # type: ignore[attr-defined]
    done = {
        c.step_id: c.points  # type: ignore[attr-defined]
        for c in await Completion.filter(entry=entry)
    }
    return _progress(entry, steps, done)


async def progress_of_entries(entries: list[Entry]) -> list[Progress]:
    """Progress of many entries, of one contest or several, in two queries."""
    if not entries:
        return []
    steps: dict[int, list[Step]] = {}
    contest_ids = {entry.contest_id for entry in entries}  # type: ignore[attr-defined]
    for step in await Step.filter(contest_id__in=contest_ids).order_by("position", "id"):
        steps.setdefault(step.contest_id, []).append(step)  # type: ignore[attr-defined]
    done: dict[int, dict[int, int]] = {entry.id: {} for entry in entries}
    rows = await Completion.filter(entry_id__in=list(done)).values("entry_id", "step_id", "points")
    for row in rows:
        done[row["entry_id"]][row["step_id"]] = row["points"]
    return [
        _progress(entry, steps.get(entry.contest_id, []), done[entry.id])  # type: ignore[attr-defined]
        for entry in entries
    ]


def _progress(entry: Entry, steps: list[Step], done: dict[int, int]) -> Progress:
    rows = [
        StepProgress(
            step=step,
            number=number,
            done=step.id in done,
            unlocked=step.unlocks_after_id is None or step.unlocks_after_id in done,  # type: ignore[attr-defined]
        )
        for number, step in enumerate(steps, start=1)
    ]
    required = {step.id for step in steps if step.required}
    return Progress(
        entry=entry,
        steps=rows,
        points=sum(done.values()),
        eligible=eligible(entry.status, required, done),
    )


async def completed_step_ids(entry: Entry) -> set[int]:
    return set(await ids(Completion.filter(entry=entry), "step_id"))


def require_active(entry: Entry) -> None:
    if entry.status is EntryStatus.DISQUALIFIED:
        raise NotAllowed(N_("This entry can no longer complete steps."), "disqualified")


def require_unlocked(step: Step, completed_step_ids: set[int]) -> None:
    after = step.unlocks_after_id  # type: ignore[attr-defined]
    if after is not None and after not in completed_step_ids:
        raise NotAllowed(
            N_("This step is still locked: finish the step before it first."), "step_locked"
        )


async def record_completion(entry: Entry, step: Step, now: datetime, *, links: Links) -> bool:
    """Record a completed step once; False when it was already recorded.

    Every completion, whatever its kind and whoever records it, comes through here: the
    one that puts the entry in the draw queues the email that says so, once per entry."""
    async with in_transaction():
        # One completion of an entry at a time: of two arriving together the second
        # waits for the first, then sees it, so exactly one of them completes the set.
        # With it, the row of whoever it may credit, in id order (see
        # ``referrals.referrers_to_credit``).
        rows = await (
            Entry.select_for_update()
            .filter(id__in=sorted({entry.id, *await referrals.referrers_to_credit([entry.id])}))
            .order_by("id")
        )
        locked = next((row for row in rows if row.id == entry.id), None)
        if locked is None:
            return False
        try:
            _, created = await Completion.get_or_create(
                entry=entry, step=step, defaults={"points": step.points, "completed_at": now}
            )
        except IntegrityError:
            return False
        if created:
            await tell_if_in_the_draw(locked, now, links)
    return created


async def tell_if_in_the_draw(entry: Entry, now: datetime, links: Links) -> None:
    """Queue the "you are in the draw" email if the entry now has every required step
    (once per entry: the message's key is the entry's)."""
    required = set(await ids(Step.filter(contest_id=entry.contest_id, required=True)))  # type: ignore[attr-defined]
    done = {
        int(row["step_id"]): int(row["points"])
        for row in await Completion.filter(entry_id=entry.id).values("step_id", "points")
    }
    if not eligible(entry.status, required, done):
        return
    person = await Participant.filter(entries__id=entry.id).first()
    if person is None or not person.email:
        return
    contest = await Contest.filter(id=entry.contest_id).select_related("brand").get()  # type: ignore[attr-defined]
    # Once the contest has closed, its list is frozen: a late verdict changes nothing there.
    if contest.status not in RUNNING:
        return
    await mail.queue_to_participant(
        person,
        locale=person.locale,
        brand=contest.brand,
        kind="in-draw",
        dedupe_key=f"in-draw:{entry.id}",
        template="in_draw",
        now=now,
        links=links,
        contest=contest,
        chances=weight(sum(done.values())),
        optional_left=await Step.filter(contest_id=entry.contest_id, required=False)  # type: ignore[attr-defined]
        .exclude(id__in=list(done))
        .exists(),
        contest_url=links.contest(contest.slug),
        pseudonym=entry.public_id,
    )
