"""A participant's own data: everything Gymkana holds about them, and deleting it.

Deleting an account keeps what published draws need, and nothing that points to the
person: their entries stay as pseudonymous ids in the entry hash chain, the frozen
lists and the certificates, no longer linked to any account. The brand's audit log
and its list of invited marketers are the brand's records and stay as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from tortoise.transactions import in_transaction

from contests.errors import N_, InvalidInput
from contests.i18n import normalise
from contests.ids import public_id
from contests.lifecycle import FINISHED, NOT_DRAWN
from contests.models import (
    Answer,
    BrandOptIn,
    Completion,
    Contest,
    Conversation,
    ConversationMessage,
    Entry,
    EntryStatus,
    Evidence,
    FraudFlag,
    Identity,
    Marketer,
    Outbox,
    Participant,
    Referral,
    SignInLink,
    WebSession,
    Winner,
)
from contests.queries import ids
from contests.steps.registry import kind_of

# 2: what steps' evidence holds is listed per step kind, under "evidence".
# 3: what the person answered on contest pages, and the brand's replies, under "answers".
# 3: each entry's referral code, referrals, review flags and device and network hashes.
# 4: conversations with brands, each message both ways, under "conversations"; each
#    answer's consent to publishing it and its place on the contest's wall; the brands
#    they asked to hear from, under "hearing_from_brands".
FORMAT = "gymkana-account/4"
T = TypeVar("T")


async def update_profile(participant: Participant, *, display_name: str, locale: str) -> None:
    """How the participant wants to be called, and in which language we write to them.

    The language also applies to their entries in contests not yet drawn, since the
    winners' email is written in the entry's language.
    """
    name = " ".join(display_name.split())
    if not name:
        raise InvalidInput(N_("Tell us what to call you."), "name_required")
    if len(name) > 120:
        raise InvalidInput(N_("That name is too long (at most 120 characters)."), "name_too_long")
    chosen = normalise(locale)
    if chosen is None:
        raise InvalidInput(N_("Choose Spanish or English."), "bad_locale")
    participant.display_name, participant.locale = name, chosen
    await participant.save(update_fields=["display_name", "locale"])
    undrawn = await ids(Contest.filter(entries__participant=participant, status__in=NOT_DRAWN))
    await Entry.filter(participant=participant, contest_id__in=undrawn).update(locale=chosen)


async def verified_addresses(participant: Participant) -> list[str]:
    """The addresses known to be this person's: mail sent there is their data."""
    addresses = {participant.email.lower()} if participant.email else set()
    for identity in await Identity.filter(participant=participant, email_verified=True):
        if identity.email:
            addresses.add(identity.email.lower())
    return sorted(addresses)


async def export(participant: Participant, *, now: datetime) -> dict[str, Any]:
    """Everything held about this person, as plain JSON values."""
    addresses = await verified_addresses(participant)
    # A handful of queries whatever the number of entries: one per table, grouped here.
    entries = await Entry.filter(participant=participant).select_related("contest").order_by("id")
    completions = _by_entry(
        await Completion.filter(entry__participant=participant).select_related("step")
    )
    evidence = _by_entry(
        await Evidence.filter(entry__participant=participant).select_related("step")
    )
    answers = _by_entry(
        await Answer.filter(entry__participant=participant).select_related("step").order_by("id")
    )
    wins = _by_entry(await Winner.filter(entry__participant=participant).select_related("prize"))
    came_through = {
        r.referred_id: r  # type: ignore[attr-defined]
        for r in await Referral.filter(referred__participant=participant)
    }
    brought = _by_referrer(await Referral.filter(referrer__participant=participant).order_by("id"))
    flags = _by_entry(await FraudFlag.filter(entry__participant=participant).order_by("id"))
    entry_rows = [
        {
            "contest": {"slug": entry.contest.slug, "title": entry.contest.title},
            "pseudonymous_id": entry.public_id,
            "status": entry.status.value,
            "language": entry.locale,
            "rules_version_accepted": entry.consent_version,
            "accepted_at": _time(entry.consented_at),
            "entered_at": _time(entry.created_at),
            "steps_done": [
                {"step": c.step.title, "points": c.points, "done_at": _time(c.completed_at)}
                for c in completions.get(entry.id, [])
            ],
            "evidence": [
                {
                    "step": e.step.title,
                    "kind": e.step.kind,
                    "reported_at": _time(e.reported_at),
                    "status": e.status.value,
                    **kind_of(e.step).personal_data(e),
                }
                for e in evidence.get(entry.id, [])
            ],
            "answers": [
                {
                    "step": a.step.title,
                    "kind": a.step.kind,
                    "answer": a.text or None,
                    "tries": a.attempts,
                    "answered_at": _time(a.created_at),
                    "changed_at": _time(a.updated_at),
                    "reply": {
                        "text": a.reply,
                        "signed": a.replied_by_name,
                        "replied_at": _time(a.replied_at),
                    }
                    if a.replied_at
                    else None,
                    "may_be_published_since": _time(a.publish_consent_at),
                    "on_the_contest_wall_since": _time(a.on_wall_at),
                }
                for a in answers.get(entry.id, [])
            ],
            "wins": [
                {
                    "rank": w.rank,
                    "alternate": w.alternate,
                    "prize": w.prize.name if w.prize else None,
                    "status": w.status.value,
                    "claim_deadline": _time(w.claim_deadline),
                    "claimed_at": _time(w.claimed_at),
                    "claim_details": w.claim_data,
                }
                for w in wins.get(entry.id, [])
            ],
            "referral_code": entry.referral_code,
            "came_through_referral": _referral(came_through.get(entry.id)),
            # The people brought in are theirs to export: only how each referral went.
            "referrals": [_referral(r) for r in brought.get(entry.id, [])],
            "review_flags": [
                {"reason": f.reason, "flagged_at": _time(f.created_at)}
                for f in flags.get(entry.id, [])
            ],
            # Keyed hashes: they tell only whether two entries came from the same place.
            "device_hash": entry.device_hash,
            "network_hash": entry.network_hash,
        }
        for entry in entries
    ]
    return {
        "format": FORMAT,
        "exported_at": _time(now),
        "account": {
            "id": participant.public_id,
            "display_name": participant.display_name,
            "email": participant.email,
            "email_verified": participant.email_verified,
            "language": participant.locale,
            "avatar_url": participant.avatar_url,
            "created_at": _time(participant.created_at),
        },
        "sign_in_identities": [
            {
                "provider": i.provider,
                "subject": i.subject,
                "email": i.email,
                "email_verified": i.email_verified,
                "display_name": i.display_name,
                "linked_at": _time(i.created_at),
                "last_used_at": _time(i.last_used_at),
            }
            for i in await Identity.filter(participant=participant).order_by("created_at")
        ],
        # The session ids themselves are secrets, and not about the person.
        "sessions": [
            {
                "started_at": _time(s.created_at),
                "last_seen_at": _time(s.last_seen_at),
                "expires_at": _time(s.expires_at),
                "ended_at": _time(s.revoked_at),
            }
            for s in await WebSession.filter(participant=participant).order_by("created_at")
        ],
        "entries": entry_rows,
        "marketer_roles": [
            {"brand": m.brand.name, "email": m.email, "name": m.name}
            for m in await Marketer.filter(participant=participant).prefetch_related("brand")
        ],
        "sign_in_links": [
            {
                "email": link.email,
                "asked_at": _time(link.created_at),
                "used_at": _time(link.used_at),
            }
            for link in await SignInLink.filter(email__in=addresses).order_by("created_at")
        ],
        "conversations": await _conversations(participant),
        "hearing_from_brands": [
            {
                "brand": wish.brand.name,
                "you_ticked": wish.text,
                "language": wish.locale,
                "since": _time(wish.given_at),
                "withdrawn_at": _time(wish.withdrawn_at),
            }
            for wish in await BrandOptIn.filter(participant=participant)
            .select_related("brand")
            .order_by("id")
        ],
        "emails": [
            {
                "kind": message.kind,
                "to": message.to_email,
                "subject": message.subject,
                "queued_at": _time(message.created_at),
                "sent_at": _time(message.sent_at),
                "status": message.status.value,
            }
            for message in await Outbox.filter(to_email__in=addresses).order_by("created_at")
        ],
    }


async def delete(participant: Participant) -> None:
    """Delete the account; its entries keep only their place in the draws (see above)."""
    addresses = await verified_addresses(participant)
    async with in_transaction():
        entry_ids = await ids(Entry.filter(participant=participant))
        still_open = await ids(
            Entry.filter(participant=participant).exclude(contest__status__in=FINISHED)
        )
        await Evidence.filter(entry_id__in=entry_ids).delete()
        await Answer.filter(entry_id__in=entry_ids).delete()
        await Completion.filter(entry_id__in=entry_ids).delete()
        await Referral.filter(referred_id__in=entry_ids).delete()
        await Referral.filter(referrer_id__in=entry_ids).delete()
        await FraudFlag.filter(entry_id__in=entry_ids).delete()
        # A win stays in the draw's record; what the winner sent to receive it goes.
        await Winner.filter(entry_id__in=entry_ids).update(claim_data={})
        await Entry.filter(id__in=entry_ids).update(device_hash=None, network_hash=None)
        # Links already shared no longer lead to these entries.
        for entry_id in entry_ids:
            await Entry.filter(id=entry_id).update(referral_code=public_id())
        # Still open: the entry leaves the draw, but its link stays in the entry hash
        # chain, which must replay to the head published at close.
        await Entry.filter(id__in=still_open).update(status=EntryStatus.DISQUALIFIED)
        await Entry.filter(id__in=entry_ids).update(participant_id=None)
        # Mail not sent yet is not sent any more, and what was sent is forgotten.
        await Outbox.filter(to_email__in=addresses).delete()
        await SignInLink.filter(email__in=addresses).delete()
        await WebSession.filter(participant=participant).delete()
        await Identity.filter(participant=participant).delete()
        await Conversation.filter(participant=participant).delete()
        await BrandOptIn.filter(participant=participant).delete()
        await Marketer.filter(participant=participant).update(participant_id=None)
        await participant.delete()


async def _conversations(participant: Participant) -> list[dict[str, Any]]:
    """What the person and the brands wrote to each other: two queries."""
    talks = (
        await Conversation.filter(participant=participant).select_related("brand").order_by("id")
    )
    said: dict[int, list[ConversationMessage]] = {}
    for message in await ConversationMessage.filter(conversation__participant=participant).order_by(
        "id"
    ):
        said.setdefault(message.conversation_id, []).append(message)  # type: ignore[attr-defined]
    return [
        {
            "brand": talk.brand.name,
            "started_at": _time(talk.created_at),
            "messages": [
                {
                    "from": f"{m.signed} ({talk.brand.name})" if m.from_brand else "you",
                    "text": m.text,
                    "written_at": _time(m.created_at),
                }
                for m in said.get(talk.id, [])
            ],
        }
        for talk in talks
    ]


def _by_entry(rows: list[T]) -> dict[int, list[T]]:
    grouped: dict[int, list[T]] = {}
    for row in rows:
        grouped.setdefault(row.entry_id, []).append(row)  # type: ignore[attr-defined]
    return grouped


def _by_referrer(rows: list[Referral]) -> dict[int, list[Referral]]:
    grouped: dict[int, list[Referral]] = {}
    for row in rows:
        grouped.setdefault(row.referrer_id, []).append(row)  # type: ignore[attr-defined]
    return grouped


def _referral(referral: Referral | None) -> dict[str, Any] | None:
    if referral is None:
        return None
    return {
        "status": referral.status.value,
        "reason": referral.reason,
        "arrived_at": _time(referral.created_at),
        "credited_at": _time(referral.credited_at),
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
