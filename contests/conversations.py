"""The direct channel: a participant writes to a brand at any moment, from a contest page
or their account, and a marketer answers by name.

One conversation per participant and brand holds every message both ways. The console's
inbox shows conversations unread first, then the latest, each assigned to a marketer if
someone took it. The brand's answer is emailed through the outbox in the participant's
language and shown on their pages. Messages are plain text, of limited length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from contests import audit, mail
from contests.errors import N_, NP_, InvalidInput, NotFound
from contests.links import Links
from contests.models import (
    Brand,
    Contest,
    Conversation,
    ConversationMessage,
    Marketer,
    Outbox,
    Participant,
)
from contests.text import has_markup, usable

MESSAGE_MAX = 2000
PAGE_SIZE = 25


def check_message(text: str) -> str:
    """The words to keep, or InvalidInput saying what to change."""
    words = text.strip()
    if not words:
        raise InvalidInput(N_("Write your message."), "message_required")
    if len(words) > MESSAGE_MAX:
        raise InvalidInput(
            NP_(
                "The message is too long (at most %(num)s character).",
                "The message is too long (at most %(num)s characters).",
            ),
            "message_too_long",
            num=MESSAGE_MAX,
        )
    if not usable(words, multiline=True):
        raise InvalidInput(
            N_(
                "The message contains a character that cannot be used (a control character, "
                "or text that was not sent as UTF-8). Type it again."
            ),
            "bad_character",
        )
    if has_markup(words):
        raise InvalidInput(
            N_("Write the message as plain text, without HTML tags."), "html_not_allowed"
        )
    return words


async def write_to_brand(
    participant: Participant,
    brand: Brand,
    text: str,
    *,
    now: datetime,
    contest: Contest | None = None,
) -> ConversationMessage:
    """The participant's message, in their conversation with the brand (begun if new)."""
    words = check_message(text)
    async with in_transaction():
        try:
            conversation, _ = await Conversation.get_or_create(
                brand=brand,
                participant=participant,
                defaults={"contest": contest, "last_message_at": now, "created_at": now},
            )
        except IntegrityError:
            conversation = await Conversation.get(brand=brand, participant=participant)
        await Conversation.filter(id=conversation.id).update(unread=True, last_message_at=now)
        return await ConversationMessage.create(
            conversation=conversation, text=words, created_at=now
        )


@dataclass(frozen=True)
class Thread:
    conversation: Conversation
    messages: list[ConversationMessage]


async def threads_of(participant: Participant, brand: Brand | None = None) -> list[Thread]:
    """The participant's conversations (with one brand, or all), latest first, each with
    its brand, the contest it began from, and its messages in order: four queries."""
    query = Conversation.filter(participant=participant).prefetch_related("brand", "contest")
    if brand is not None:
        query = query.filter(brand=brand)
    conversations = await query.order_by("-last_message_at")
    return await _with_messages(conversations)


async def _with_messages(conversations: list[Conversation]) -> list[Thread]:
    if not conversations:
        return []
    grouped: dict[int, list[ConversationMessage]] = {c.id: [] for c in conversations}
    for message in await ConversationMessage.filter(conversation_id__in=list(grouped)).order_by(
        "id"
    ):
        grouped[message.conversation_id].append(message)  # type: ignore[attr-defined]
    return [Thread(conversation=c, messages=grouped[c.id]) for c in conversations]


@dataclass(frozen=True)
class InboxCursor:
    """Where a page of the inbox ends: the last conversation's place in the order."""

    unread: bool
    last_message_at: datetime
    id: int

    def encode(self) -> str:
        return f"{int(self.unread)}_{self.last_message_at.isoformat()}_{self.id}"

    @classmethod
    def decode(cls, raw: str) -> InboxCursor:
        """The cursor of a next-page link; InvalidInput when it was not one."""
        try:
            unread, when, row = raw.split("_")
            cursor = cls(
                unread=unread == "1", last_message_at=datetime.fromisoformat(when), id=int(row)
            )
        except ValueError:
            cursor = None
        if cursor is None or cursor.last_message_at.tzinfo is None or not 0 < cursor.id < 2**31:
            raise InvalidInput(
                N_(
                    "The address has a wrong “%(field)s”: go back to the list and follow its links."
                ),
                "bad_parameter",
                field="after",
            )
        return cursor


async def inbox(
    brand: Brand,
    *,
    search: str = "",
    mine: Marketer | None = None,
    after: InboxCursor | None = None,
    limit: int = PAGE_SIZE,
) -> list[Thread]:
    """A page of the brand's conversations, unread first, then the latest, keyed on their
    place in that order so that later pages cost what the first does. ``search`` looks in
    the participant's name and address and in the messages; ``mine``, only those
    assigned to that marketer."""
    query = Conversation.filter(brand=brand).select_related("participant", "assigned_to")
    if mine is not None:
        query = query.filter(assigned_to=mine)
    if search:
        matching = ConversationMessage.filter(
            conversation__brand_id=brand.id, text__icontains=search
        ).values("conversation_id")
        query = query.filter(
            Q(participant__display_name__icontains=search)
            | Q(participant__email__icontains=search)
            | Q(id__in=Subquery(matching))
        )
    if after is not None:
        # Unread (True) sorts before read (False).
        query = query.filter(
            Q(unread__lt=after.unread)
            | Q(unread=after.unread, last_message_at__lt=after.last_message_at)
            | Q(unread=after.unread, last_message_at=after.last_message_at, id__lt=after.id)
        )
    conversations = await query.order_by("-unread", "-last_message_at", "-id").limit(limit)
    return await _with_messages(conversations)


async def unread_count(brand: Brand) -> int:
    return await Conversation.filter(brand=brand, unread=True).count()


async def thread(brand: Brand, conversation_id: int) -> Thread:
    conversation = (
        await Conversation.filter(id=conversation_id, brand=brand)
        .select_related("participant", "assigned_to", "contest")
        .first()
    )
    if conversation is None:
        raise NotFound(N_("This conversation does not exist."), "conversation_not_found")
    [found] = await _with_messages([conversation])
    return found


async def mark_read(role: Marketer, conversation_id: int) -> None:
    await thread(role.brand, conversation_id)
    await Conversation.filter(id=conversation_id, brand_id=role.brand_id).update(unread=False)  # type: ignore[attr-defined]


async def assign(
    role: Marketer, conversation_id: int, marketer_id: int | None, *, now: datetime
) -> Conversation:
    """Give the conversation to a marketer of the brand (None: to nobody)."""
    found = await thread(role.brand, conversation_id)
    to = None
    if marketer_id is not None:
        to = await Marketer.filter(id=marketer_id, brand_id=role.brand_id).first()  # type: ignore[attr-defined]
        if to is None:
            raise InvalidInput(N_("Choose someone of this brand's team."), "not_in_team")
    async with in_transaction():
        # By id: Tortoise cannot set a foreign key to None by passing the object.
        await Conversation.filter(id=conversation_id).update(assigned_to_id=to.id if to else None)
        await audit.record(
            actor=role.email,
            action="conversation.assigned",
            brand=role.brand,
            target=found.conversation.public_id,
            now=now,
            to=to.email if to else None,
        )
    return await Conversation.get(id=conversation_id)


async def answer(
    role: Marketer, conversation_id: int, text: str, *, now: datetime, links: Links
) -> tuple[ConversationMessage, Outbox | None]:
    """The brand's answer, signed with the marketer's name, emailed in the participant's
    language; the conversation is read from then on. Audited."""
    words = check_message(text)
    found = await thread(role.brand, conversation_id)
    conversation = found.conversation
    person = conversation.participant
    signed = role.name or role.brand.name
    async with in_transaction():
        message = await ConversationMessage.create(
            conversation=conversation,
            from_brand=True,
            marketer=role,
            signed=signed,
            text=words,
            created_at=now,
        )
        await Conversation.filter(id=conversation.id).update(unread=False, last_message_at=now)
        outgoing = await mail.queue_to_participant(
            person,
            locale=person.locale,
            brand=role.brand,
            kind="conversation",
            dedupe_key=f"conversation:{message.id}",
            template="conversation",
            now=now,
            signed=signed,
            answer=words,
            asked=next((m.text for m in reversed(found.messages) if not m.from_brand), ""),
            account_url=links.account(),
        )
        await audit.record(
            actor=role.email,
            action="conversation.answered",
            brand=role.brand,
            target=conversation.public_id,
            now=now,
            message=message.id,
        )
    return message, outgoing


async def brands_to_write(participant: Participant) -> list[Brand]:
    """The brands the participant may write to from their account: those of the
    contests they entered, and those they already talk with."""
    entered = Brand.filter(contests__entries__participant=participant)
    talking = Brand.filter(conversations__participant=participant)
    found = {b.id: b for b in [*await entered.distinct(), *await talking.distinct()]}
    return sorted(found.values(), key=lambda b: b.name.lower())


async def brand_to_write(participant: Participant, slug: str) -> Brand:
    """One of ``brands_to_write``, by its slug, or NotFound."""
    for brand in await brands_to_write(participant):
        if brand.slug == slug:
            return brand
    raise NotFound(
        N_("You can write to a brand once you have entered one of its contests."),
        "brand_not_reachable",
    )
