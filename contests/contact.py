"""A participant's contact address, verified by an emailed link.

Some sign-in providers give no address (X) or one nobody checked (Facebook): such a
participant would never hear that they won. When they enter, they are asked for an
address, and it counts once they follow the link it receives. The address is where
Gymkana writes to them; it signs nobody in and joins no accounts (identities are keyed
by provider and subject only).
"""

from __future__ import annotations

from datetime import datetime

from contests import mail
from contests.brands import normalise_email
from contests.errors import N_, InvalidInput
from contests.links import Links
from contests.models import Outbox, Participant
from contests.tokens import Tokens

PURPOSE = "contact-email"
# Long enough to find the email the next day; the address is checked again when used.
LINK_MAX_AGE = 3 * 86400


def needs_address(participant: Participant | None) -> bool:
    return participant is not None and not (participant.email and participant.email_verified)


async def ask_to_verify(
    participant: Participant,
    email: str,
    *,
    tokens: Tokens,
    links: Links,
    locale: str,
    reply_to: str,
    now: datetime,
) -> Outbox:
    """Email the address a link that confirms it; the address counts only then."""
    address = normalise_email(email)
    token = tokens.sign(PURPOSE, {"p": participant.public_id, "e": address})
    return await mail.queue(
        kind="verify-email",
        # One message per address and minute: asking again later sends a fresh link.
        dedupe_key=f"verify-email:{participant.public_id}:{address}:{now:%Y%m%d%H%M}",
        template="verify_email",
        to_email=address,
        to_name=participant.display_name,
        locale=locale,
        now=now,
        reply_to=reply_to,
        link=links.verify_email(token),
    )


def read_link(tokens: Tokens, token: str) -> tuple[str, str]:
    """The participant's public id and the address a link confirms."""
    payload = tokens.read(PURPOSE, token, LINK_MAX_AGE)
    public_id, address = payload.get("p"), payload.get("e")
    if not isinstance(public_id, str) or not isinstance(address, str):
        raise InvalidInput(N_("This link is not valid."), "link_invalid")
    return public_id, address


async def confirm(tokens: Tokens, token: str) -> Participant:
    """Make the link's address the participant's verified address (twice is once)."""
    public_id, address = read_link(tokens, token)
    participant = await Participant.filter(public_id=public_id).first()
    if participant is None:
        raise InvalidInput(N_("This link is not valid."), "link_invalid")
    participant.email = address
    participant.email_verified = True
    await participant.save(update_fields=["email", "email_verified"])
    return participant
