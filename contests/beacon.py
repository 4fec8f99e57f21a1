"""Public randomness from a drand network: naming a future round, fetching it from
relays and checking its BLS signature offline.

A round of a drand network is a BLS signature, by the network's threshold key, of the
round's number. Nobody can know it before the network publishes it, and anyone can check
it against the network's public key. Gymkana names the round at publication (the first
one published after the contest's end plus a margin), so the list is frozen and public
before the randomness exists.

Only the scheme ``bls-unchained-g1-rfc9380`` is supported, the one of the League of
Entropy's quicknet: signatures on G1 (48 bytes), the key on G2 (96 bytes), the message
the SHA-256 of the round number as 8 big-endian bytes, hashed to G1 as RFC 9380 says
with the domain separation tag below. The round's randomness is the SHA-256 of the
signature.

The pairing check uses ``py-ecc``, the Ethereum Foundation's pure-Python BLS12-381 (it
backs the consensus specification's tests): no compiled code to build or trust on every
platform, and about a third of a second for the one check a draw needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from contests.draw import utc_text

# quicknet's constants live apart so that settings can name them as defaults without
# importing this module; they are this module's too.
from contests.quicknet import (
    QUICKNET_CHAIN_HASH as QUICKNET_CHAIN_HASH,
)
from contests.quicknet import (
    QUICKNET_GENESIS as QUICKNET_GENESIS,
)
from contests.quicknet import (
    QUICKNET_PERIOD as QUICKNET_PERIOD,
)
from contests.quicknet import (
    QUICKNET_PUBLIC_KEY as QUICKNET_PUBLIC_KEY,
)
from contests.quicknet import (
    QUICKNET_RELAYS as QUICKNET_RELAYS,
)

if TYPE_CHECKING:
    from contests.settings import Settings

log = logging.getLogger("gymkana.beacon")

SCHEME = "bls-unchained-g1-rfc9380"

# The demo's own beacon: its secret is written here on purpose, so whoever runs the
# demo could steer its draws, and every page and certificate that uses it says so.
# The order of BLS12-381's groups: secret keys are numbers below it.
GROUP_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
DEMO_SECRET = int.from_bytes(hashlib.sha256(b"gymkana demo beacon").digest(), "big") % GROUP_ORDER

DRAND = "drand"
DEMO = "demo"


class BeaconError(Exception):
    """A round could not be used: the message says why, for a log or a verifier."""


@dataclass(frozen=True)
class Network:
    """A drand network (or the demo's beacon): what names and checks its rounds."""

    kind: str  # DRAND or DEMO
    chain_hash: str
    public_key: str
    period: int
    genesis: int
    relays: tuple[str, ...] = ()

    def round_after(self, moment: datetime) -> int:
        """The first round published strictly after ``moment``."""
        seconds = int(moment.timestamp() // 1)
        if seconds < self.genesis:
            return 1
        return (seconds - self.genesis) // self.period + 2

    def round_time(self, round_number: int) -> datetime:
        """When the network publishes a round: genesis + (round - 1) x period."""
        return datetime.fromtimestamp(self.genesis + (round_number - 1) * self.period, UTC)

    def describe(self) -> dict[str, Any]:
        """The network as a contest records it at publication and a certificate repeats it."""
        return {
            "source": self.kind,
            "scheme": SCHEME,
            "chain_hash": self.chain_hash,
            "public_key": self.public_key,
            "period": self.period,
            "genesis": self.genesis,
        }


@dataclass(frozen=True)
class Fetching:
    """How the worker reaches a network's relays (DRAND_RELAYS, DRAND_TIMEOUT_SECONDS,
    DRAND_ATTEMPTS)."""

    relays: tuple[str, ...] = QUICKNET_RELAYS
    timeout: float = 5.0
    attempts: int = 2


@dataclass(frozen=True)
class Round:
    number: int
    signature: str
    randomness: str


def named_round(network: Network, ends_at: datetime, margin_seconds: int) -> dict[str, Any]:
    """What a contest records at publication: the network and the first round published
    more than ``margin_seconds`` after its end, with that round's time."""
    round_number = network.round_after(ends_at + timedelta(seconds=margin_seconds))
    return {
        **network.describe(),
        "margin_seconds": margin_seconds,
        "round": round_number,
        "round_at": utc_text(network.round_time(round_number)),
    }


def renamed_round(described: dict[str, Any], ends_at: datetime) -> dict[str, Any]:
    """The same network's round for a contest whose end moved while it was running (the
    old round was still in the future, so nobody knew either)."""
    return named_round(network_from(described), ends_at, int(described["margin_seconds"]))


def configured(settings: Settings, now: datetime) -> Network | None:
    """The network the settings name (DRAW_RANDOMNESS and DRAND_*); None for "none"."""
    if settings.draw_randomness == "none":
        return None
    if settings.draw_randomness == DEMO:
        return demo_network(now)
    return Network(
        DRAND,
        settings.drand_chain_hash,
        settings.drand_public_key,
        settings.drand_period,
        settings.drand_genesis,
        settings.drand_relay_list,
    )


def fetching(settings: Settings) -> Fetching:
    return Fetching(
        settings.drand_relay_list, settings.drand_timeout_seconds, settings.drand_attempts
    )


def quicknet(relays: tuple[str, ...] = QUICKNET_RELAYS) -> Network:
    return Network(
        DRAND, QUICKNET_CHAIN_HASH, QUICKNET_PUBLIC_KEY, QUICKNET_PERIOD, QUICKNET_GENESIS, relays
    )


def demo_network(now: datetime) -> Network:
    """The demo's local beacon: its own key, a round a second, no relays."""
    from contests import bls

    public_key = bls.public_key(DEMO_SECRET).hex()
    chain_hash = hashlib.sha256(b"gymkana demo beacon " + bytes.fromhex(public_key)).hexdigest()
    # Genesis at the start of the year keeps round numbers small and the same for a
    # whole demo run.
    genesis = int(datetime(now.year, 1, 1, tzinfo=UTC).timestamp())
    return Network(DEMO, chain_hash, public_key, 1, genesis)


def network_from(described: dict[str, Any], relays: tuple[str, ...] = ()) -> Network:
    """The network a contest recorded (see ``Network.describe``)."""
    return Network(
        kind=str(described["source"]),
        chain_hash=str(described["chain_hash"]),
        public_key=str(described["public_key"]),
        period=int(described["period"]),
        genesis=int(described["genesis"]),
        relays=relays,
    )


def round_message(round_number: int) -> bytes:
    """What the network signs for a round: SHA-256 of the number as 8 big-endian bytes."""
    return hashlib.sha256(round_number.to_bytes(8, "big")).digest()


def randomness_of(signature_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(signature_hex)).hexdigest()


def check_round(public_key: str, round_number: int, signature: str, randomness: str) -> None:
    """Raise ``BeaconError`` unless ``signature`` is the key's BLS signature of the round
    and ``randomness`` its SHA-256. Pure and offline: a verifier runs this too."""
    if isinstance(round_number, bool) or not isinstance(round_number, int) or round_number < 1:
        raise BeaconError("the round must be a whole number of at least 1")
    if round_number >= 2**64:
        raise BeaconError("the round does not fit in 64 bits")
    key_bytes = _hex_bytes("public key", public_key, 96)
    signature_bytes = _hex_bytes("signature", signature, 48)
    if not isinstance(randomness, str) or randomness != randomness_of(signature):
        raise BeaconError("the randomness is not the SHA-256 of the signature")
    from contests import bls

    try:
        bls.verify(key_bytes, round_message(round_number), signature_bytes)
    except ValueError as error:
        raise BeaconError(f"round {round_number}: {error}") from None


def sign_demo_round(round_number: int) -> Round:
    """A round of the demo's beacon, signed with its published secret."""
    from contests import bls

    signature = bls.sign(DEMO_SECRET, round_message(round_number)).hex()
    return Round(round_number, signature, randomness_of(signature))


async def fetch_round(
    network: Network,
    round_number: int,
    now: datetime,
    fetching: Fetching,
) -> Round:
    """The round, checked; ``BeaconError`` when it is not due yet, no relay has it or no
    relay gives a valid one. Each relay is tried in turn, ``fetching.attempts`` times over,
    each request within ``fetching.timeout`` seconds; a relay's word is never trusted:
    its answer is checked against the network's key."""
    due = network.round_time(round_number)
    if now < due:
        raise BeaconError(f"round {round_number} is due at {due.isoformat()}")
    if network.kind == DEMO:
        return sign_demo_round(round_number)
    relays = fetching.relays or network.relays
    if not relays:
        raise BeaconError("no relay is configured for the beacon")
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=fetching.timeout, follow_redirects=False) as client:
        for attempt in range(fetching.attempts):
            for relay in relays:
                url = f"{relay.rstrip('/')}/{network.chain_hash}/public/{round_number}"
                try:
                    return await _fetch_one(client, url, network, round_number)
                except (httpx.HTTPError, BeaconError, ValueError) as error:
                    problems.append(f"{relay}: {error}")
            if attempt + 1 < fetching.attempts:
                await asyncio.sleep(min(1.0 * (attempt + 1), 3.0))
    log.warning("beacon round %s unavailable: %s", round_number, "; ".join(problems))
    raise BeaconError(f"no relay gave a valid round {round_number}: " + "; ".join(problems[-4:]))


async def _fetch_one(
    client: httpx.AsyncClient, url: str, network: Network, round_number: int
) -> Round:
    response = await client.get(url)
    if response.status_code != 200:
        raise BeaconError(f"HTTP {response.status_code}")
    data = response.json()
    if not isinstance(data, dict) or data.get("round") != round_number:
        raise BeaconError("the relay answered with another round")
    signature, randomness = data.get("signature"), data.get("randomness")
    if not isinstance(signature, str) or not isinstance(randomness, str):
        raise BeaconError("the relay's answer has no signature or randomness")
    check_round(network.public_key, round_number, signature, randomness)
    return Round(round_number, signature, randomness)


def _hex_bytes(name: str, value: object, size: int) -> bytes:
    if (
        not isinstance(value, str)
        or len(value) != 2 * size
        or any(c not in "0123456789abcdef" for c in value)
    ):
        raise BeaconError(f"the {name} must be {2 * size} lowercase hexadecimal characters")
    return bytes.fromhex(value)
