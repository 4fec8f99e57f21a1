"""What participants answer on the contest page (a quiz's tries, an opinion's words) and
the brand's replies to them.

One row per entry and step (``Answer``). A quiz counts its tries there, in the database,
so that a limit holds whatever happens to Redis; an opinion keeps the participant's words
as they typed them, shown escaped. A marketer's reply is signed with their name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from contests import audit, mail
from contests.errors import N_, NP_, Conflict, InvalidInput, NotAllowed, NotFound
from contests.links import Links
from contests.models import Answer, Entry, Marketer, Outbox, Step
from contests.queries import execute
from contests.text import has_markup, usable

# A reply is a personal message, not a letter.
REPLY_MAX = 2000
# How many answers the console shows at a time.
PAGE_SIZE = 25


async def answers_of(entry: Entry) -> dict[int, Answer]:
    """The entry's answers by step id, in one query."""
    return {answer.step_id: answer for answer in await Answer.filter(entry=entry)}  # type: ignore[attr-defined]


async def _row(entry: Entry, step: Step, now: datetime) -> Answer:
    try:
        row, _ = await Answer.get_or_create(
            entry=entry, step=step, defaults={"created_at": now, "updated_at": now}
        )
    except IntegrityError:
        # Another request created it between the look-up and the insert.
        row = await Answer.get(entry=entry, step=step)
    return row


async def tries_used(entry: Entry, step: Step) -> int:
    row = await Answer.filter(entry=entry, step=step).only("id", "attempts").first()
    return row.attempts if row else 0


def no_tries_left() -> NotAllowed:
    return NotAllowed(
        N_("You have no tries left for this question: it can no longer be answered."),
        "no_tries_left",
    )


async def count_try(entry: Entry, step: Step, limit: int, now: datetime) -> int:
    """Count one try at the step and return how many are left after it; NotAllowed when
    none were left. The row is locked while counting, so that tries sent at the same
    moment neither go over the limit nor are told the same number of tries left."""
    row = await _row(entry, step, now)
    async with in_transaction():
        locked = await Answer.select_for_update().get(id=row.id)
        if locked.attempts >= limit:
            raise no_tries_left()
        locked.attempts, locked.updated_at = locked.attempts + 1, now
        await locked.save(update_fields=["attempts", "updated_at"])
    return limit - locked.attempts


async def save_words(entry: Entry, step: Step, text: str, now: datetime) -> Answer:
    """Keep the participant's answer, or their new version of it until the brand replies:
    a reply answers the words the marketer read, so those words stay."""
    if not await Answer.filter(entry=entry, step=step).exists():
        try:
            return await Answer.create(
                entry=entry, step=step, text=text, created_at=now, updated_at=now
            )
        except IntegrityError:
            pass  # a first answer sent twice at once: this one is an edit of the other
    edited = await Answer.filter(entry=entry, step=step, replied_at__isnull=True).update(
        text=text, updated_at=now
    )
    if not edited:
        raise Conflict(
            N_("The brand has already replied to your answer, so it can no longer change."),
            "answer_replied",
        )
    return await Answer.get(entry=entry, step=step)


@dataclass(frozen=True)
class StepTally:
    """How many opinion answers a step has, and how many still wait for a reply."""

    step_id: int
    answers: int
    waiting: int


async def tallies(contest_id: int) -> dict[int, StepTally]:
    """Each step's answers and those not replied to yet, in one aggregate query."""
    rows = await execute(
        "SELECT a.step_id, COUNT(*), COUNT(*) - COUNT(a.replied_at) FROM answer a "
        "JOIN step s ON s.id = a.step_id WHERE s.contest_id = ? AND a.text <> '' "
        "GROUP BY a.step_id",
        [contest_id],
    )
    return {
        int(row[0]): StepTally(step_id=int(row[0]), answers=int(row[1]), waiting=int(row[2]))
        for row in rows
    }


async def opinion_answers(
    contest_id: int,
    *,
    step_id: int | None = None,
    search: str = "",
    waiting_only: bool = False,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[Answer]:
    """A page of a contest's opinion answers, newest first, each with its step and its
    participant: one query, keyed on the answer's id (``before``: the last id of the
    previous page), so that the thousandth page costs what the first does. ``search``
    looks in the words, the reply and the participant's name."""
    query = (
        Answer.filter(step__contest_id=contest_id, step__kind="opinion")
        .exclude(text="")
        .select_related("step", "entry__participant")
    )
    if step_id is not None:
        query = query.filter(step_id=step_id)
    if waiting_only:
        query = query.filter(replied_at__isnull=True)
    if before is not None:
        query = query.filter(id__lt=before)
    if search:
        query = query.filter(
            Q(text__icontains=search)
            | Q(reply__icontains=search)
            | Q(entry__participant__display_name__icontains=search)
        )
    return await query.order_by("-id").limit(limit)


async def reply(
    role: Marketer,
    answer_id: int,
    text: str,
    *,
    now: datetime,
    links: Links,
    contest_id: int | None = None,
) -> tuple[Answer, Outbox | None]:
    """A marketer's personal reply to a participant's answer, signed with their name (or
    the brand's, when the console does not know it), and the email that takes it to the
    participant in their language (None when they have no address any more). A second
    reply replaces the first, for a typo, and is emailed too; the audit log keeps both."""
    answer = (
        await Answer.filter(id=answer_id, step__contest__brand_id=role.brand_id)  # type: ignore[attr-defined]
        .select_related("step__contest__brand", "entry__participant")
        .first()
    )
    if answer is None or not answer.text:
        raise NotFound(N_("This answer does not exist."), "answer_not_found")
    words = text.strip()
    if not words:
        raise InvalidInput(N_("Write your reply."), "reply_required")
    if len(words) > REPLY_MAX:
        raise InvalidInput(
            NP_(
                "The reply is too long (at most %(num)s character).",
                "The reply is too long (at most %(num)s characters).",
            ),
            "reply_too_long",
            num=REPLY_MAX,
        )
    if not usable(words, multiline=True):
        raise InvalidInput(
            N_(
                "The reply contains a character that cannot be used (a control character, "
                "or text that was not sent as UTF-8). Type it again."
            ),
            "bad_character",
        )
    if has_markup(words):
        raise InvalidInput(
            N_("Write the reply as plain text, without HTML tags."), "html_not_allowed"
        )
    brand = answer.step.contest.brand
    before = answer.reply
    answer.reply, answer.replied_at, answer.replied_by = words, now, role
    answer.replied_by_name = role.name or brand.name
    message = None
    async with in_transaction():
        await answer.save(update_fields=["reply", "replied_at", "replied_by_id", "replied_by_name"])
        message = await _email_reply(answer, now, links)
        await audit.record(
            actor=role.email,
            action="answer.replied",
            brand=brand,
            target=answer.step.contest.slug,
            now=now,
            step=answer.step.title,
            answer=answer.id,
            before=before,
            after=words,
        )
    return answer, message


async def _email_reply(answer: Answer, now: datetime, links: Links) -> Outbox | None:
    contest = answer.step.contest
    return await mail.queue_to_participant(
        answer.entry.participant,
        locale=answer.entry.locale,
        brand=contest.brand,
        kind="reply",
        # Each reply is its own message: a corrected reply is sent again.
        dedupe_key=f"reply:{answer.id}:{now.isoformat()}",
        template="reply",
        now=now,
        contest=contest,
        question=str(answer.step.config.get("question", answer.step.title)),
        words=answer.text,
        reply=answer.reply,
        signed=answer.replied_by_name,
        contest_url=links.contest(contest.slug),
    )
