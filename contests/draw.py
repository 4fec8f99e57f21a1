"""The verifiable draw: commitments, the entry hash chain, the draw itself and its certificate.

Everything here is a pure function of its arguments (apart from ``new_seed``, which asks
the operating system for randomness), so the same code runs in the worker that performs
a draw and in ``gymkana verify``, which checks a published certificate offline.

The algorithm uses SHA-256, UTF-8 text and whole numbers only, so that anyone can
re-implement it in any language from ``docs/draw.md``. Changing anything that affects
the output breaks every certificate already published: add a new ``FORMAT`` instead.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

# Version 1 is kept so that its certificates still verify; new draws use version 2
# (``contests/verify.py`` checks both; ``docs/draw.md`` describes both).
FORMAT = "gymkana-draw/1"
FORMAT_V2 = "gymkana-draw/2"
# Where a version 1 chain starts; a version 2 chain starts from ``chain_genesis``.
GENESIS = "0" * 64

ALGORITHM = (
    "Sort the entries by pseudonymous id (Unicode code point order). For pick k = 0, 1, 2, "
    "... while k is below winners + alternates and entries remain: compute the SHA-256 of "
    "the UTF-8 text 'seed:list_digest:public_randomness:k' (k in decimal), read those 32 "
    "bytes as one big-endian unsigned integer, and take its remainder r after division by "
    "the sum of the weights of the entries still in the list. Walk the remaining entries in "
    "sorted order: if r is below the entry's weight, that entry is picked and removed from "
    "the list; otherwise subtract its weight from r and go on to the next entry. The order "
    "is the pseudonyms in the order they were picked, rank 1 first. The list digest is the "
    "SHA-256 of the sorted entries written one per line as 'pseudonym weight' followed by a "
    "line feed. Full description and a test vector: see docs/draw.md."
)

_HEX = frozenset("0123456789abcdef")
# Contests are named by their slug: ASCII a-z, 0-9, hyphen and underscore, so the
# text hashed is the same bytes in every language and needs no Unicode normalisation.
_CONTEST = re.compile(r"[a-z0-9_-]{1,80}")
# Winners plus alternates: far beyond any contest, small enough for every language.
MAX_PICKS = 1_000_000


@dataclass(frozen=True)
class FrozenEntry:
    """One line of the list frozen at close: a pseudonymous id and its whole-number weight.

    Construction refuses (``ValueError``) an empty pseudonym or one containing whitespace
    or control characters, and a weight that is not a whole number of at least 1.
    """

    pseudonym: str
    weight: int

    def __post_init__(self) -> None:
        _check_pseudonym(self.pseudonym)
        # bool is an int in Python but never a meaningful weight.
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ValueError(
                f"the weight of {self.pseudonym!r} is {weight!r}; "
                "weights must be whole numbers of at least 1"
            )


def new_seed() -> str:
    """Return a fresh secret seed: 32 bytes from the system's secure random source, as hex."""
    return secrets.token_hex(32)


def commitment(seed_hex: str) -> str:
    """Return the public commitment to a seed: SHA-256 of the seed's 32 raw bytes, as hex.

    Raises ``ValueError`` unless the seed is 64 lowercase hexadecimal characters.
    """
    _check_hex("seed", seed_hex)
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def utc_text(moment: datetime) -> str:
    """Return the instant as UTC ISO 8601 with microseconds and 'Z': 2026-11-25T10:00:00.000000Z.

    Raises ``ValueError`` for a naive datetime, whose instant is unknown.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the time must carry a time zone")
    u = moment.astimezone(UTC)
    # Written out by hand: strftime does not zero-pad years below 1000 on every platform.
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


def chain_link(previous: str, pseudonym: str, entered_at: datetime) -> str:
    """Return the chain hash of an entry appended after the link ``previous``.

    The hash is SHA-256 of the UTF-8 text ``previous + "\\n" + pseudonym + "\\n" + time``,
    the time written by ``utc_text``. The first entry of a contest uses ``GENESIS``.
    Raises ``ValueError`` for a malformed previous link, pseudonym or naive time.
    """
    _check_hex("previous link", previous)
    _check_pseudonym(pseudonym)
    text = f"{previous}\n{pseudonym}\n{utc_text(entered_at)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_genesis(contest: str, seed_commitment: str) -> str:
    """Where a version 2 chain starts: SHA-256 of the UTF-8 text
    ``"gymkana-chain/2\n" + contest + "\n" + seed_commitment``, as hex. A chain (or a
    prefix of one) cannot be carried over from another contest or another seed."""
    check_contest(contest)
    _check_hex("seed commitment", seed_commitment)
    text = f"gymkana-chain/2\n{contest}\n{seed_commitment}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def replay_chain(links: Iterable[tuple[str, datetime]], start: str = GENESIS) -> str:
    """Return the chain head after appending each (pseudonym, entered_at) in the given order.

    Starting from ``start`` (``GENESIS`` for version 1, ``chain_genesis`` for version 2):
    equal to the stored head only if the very same entries arrived in the very same order
    at the very same times.
    """
    head = start
    for pseudonym, entered_at in links:
        head = chain_link(head, pseudonym, entered_at)
    return head


def canonical_list(entries: Iterable[FrozenEntry]) -> bytes:
    """Return the frozen list as published bytes: sorted by pseudonym, "pseudonym weight\\n" each.

    Raises ``ValueError`` if a pseudonym appears twice.
    """
    ordered = _sorted_unique(entries)
    return "".join(canonical_line(e.pseudonym, e.weight) for e in ordered).encode("utf-8")


def canonical_line(pseudonym: str, weight: int) -> str:
    """One line of the published list; the list digest hashes these, in sorted order."""
    return f"{pseudonym} {weight}\n"


def list_digest(entries: Iterable[FrozenEntry]) -> str:
    """Return the SHA-256 of ``canonical_list(entries)`` as hex; the input order is irrelevant."""
    return hashlib.sha256(canonical_list(entries)).hexdigest()


def draw_order(
    seed_hex: str,
    digest: str,
    entries: Iterable[FrozenEntry],
    count: int,
    public_randomness: str = "",
) -> list[str]:
    """Return the pseudonyms drawn, rank 1 first: weighted sampling without replacement.

    The result depends only on the arguments, never on the order the entries are given
    in. It holds ``min(count, number of entries)`` distinct pseudonyms. The digest is
    used as given; callers pass ``list_digest(entries)``. Raises ``ValueError`` for a seed
    or digest that is not 64 lowercase hexadecimal characters, a negative count or a
    pseudonym that appears twice.
    """
    _check_hex("seed", seed_hex)
    _check_hex("list digest", digest)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(
            f"the number of entries to draw must be a whole number >= 0, not {count!r}"
        )
    ordered = _sorted_unique(entries)
    return draw_sorted(
        seed_hex,
        digest,
        [e.pseudonym for e in ordered],
        [e.weight for e in ordered],
        count,
        public_randomness,
    )


def draw_sorted(
    seed_hex: str,
    digest: str,
    pseudonyms: Sequence[str],
    weights: Sequence[int],
    count: int,
    public_randomness: str = "",
) -> list[str]:
    """``draw_order`` over a list already sorted by pseudonym, without duplicates, given
    as two parallel sequences; the caller vouches for both (the frozen list is stored
    that way).

    The published walk subtracts weights entry by entry, which costs O(N) a pick. A
    Fenwick tree over the weights finds the same entry (the first whose running total
    exceeds r) in O(log N), and a picked entry is removed by setting its weight to 0:
    the order is identical, in O(N + k log N) instead of O(k N).
    """

    def key(k: int) -> bytes:
        return f"{seed_hex}:{digest}:{public_randomness}:{k}".encode()

    return _fenwick_draw(pseudonyms, weights, count, key)


def draw_key(
    *,
    contest: str,
    seed_hex: str,
    digest: str,
    chain_head: str,
    winners: int,
    alternates: int,
    beacon: str,
) -> str:
    """Version 2: the SHA-256, as hex, of every input of the draw written as lines of
    UTF-8 text (see ``key_text``). Changing any of them changes every pick."""
    return hashlib.sha256(
        key_text(
            contest=contest,
            seed_hex=seed_hex,
            digest=digest,
            chain_head=chain_head,
            winners=winners,
            alternates=alternates,
            beacon=beacon,
        ).encode("utf-8")
    ).hexdigest()


def key_text(
    *,
    contest: str,
    seed_hex: str,
    digest: str,
    chain_head: str,
    winners: int,
    alternates: int,
    beacon: str,
) -> str:
    """The text whose hash is the draw key, each line ending in a line feed:
    format, contest, seed (hex text), list digest, chain head, winners, alternates and
    the beacon line (``beacon_line``)."""
    check_contest(contest)
    _check_hex("seed", seed_hex)
    _check_hex("list digest", digest)
    _check_hex("chain head", chain_head)
    for name, value in (("winners", winners), ("alternates", alternates)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PICKS:
            raise ValueError(f"the number of {name} must be a whole number from 0 to {MAX_PICKS}")
    return (
        f"{FORMAT_V2}\ncontest {contest}\nseed {seed_hex}\nlist_digest {digest}\n"
        f"chain_head {chain_head}\nwinners {winners}\nalternates {alternates}\n{beacon}\n"
    )


def beacon_line(source: str, chain_hash: str, round_number: int, randomness: str) -> str:
    """The beacon's line of the key text: ``beacon none`` for a draw without one, else
    ``beacon <source> <chain hash> <round> <randomness>``."""
    if source == "none":
        return "beacon none"
    _check_hex("beacon chain hash", chain_hash)
    _check_hex("beacon randomness", randomness)
    return f"beacon {source} {chain_hash} {round_number} {randomness}"


def draw_v2(key: str, pseudonyms: Sequence[str], weights: Sequence[int], count: int) -> list[str]:
    """Version 2's order over a list sorted by pseudonym: pick k hashes the text
    ``key + ":" + k``; the walk is version 1's, in O(N + k log N)."""
    _check_hex("draw key", key)
    return _fenwick_draw(pseudonyms, weights, count, lambda k: f"{key}:{k}".encode())


def _fenwick_draw(
    pseudonyms: Sequence[str],
    weights: Sequence[int],
    count: int,
    key: Callable[[int], bytes],
) -> list[str]:
    size = len(pseudonyms)
    tree = [0, *weights]
    for index in range(1, size + 1):
        parent = index + (index & -index)
        if parent <= size:
            tree[parent] += tree[index]
    total = sum(weights)
    top = 1 << size.bit_length() if size else 0
    order: list[str] = []
    for k in range(min(count, size)):
        # A 256-bit number reduced modulo any realistic total weight has a bias far below
        # 2**-190: simpler to re-implement than rejection sampling, and just as fair.
        r = int.from_bytes(hashlib.sha256(key(k)).digest(), "big") % total
        position = 0
        step = top
        while step:
            following = position + step
            if following <= size and tree[following] <= r:
                position = following
                r -= tree[following]
            step >>= 1
        # ``position`` entries have a running total of at most r: the next one is picked.
        picked_weight = weights[position]
        index = position + 1
        while index <= size:
            tree[index] -= picked_weight
            index += index & -index
        total -= picked_weight
        order.append(pseudonyms[position])
    return order


def build_certificate(
    *,
    contest: str,
    seed_hex: str,
    seed_commitment: str,
    entries: Iterable[FrozenEntry],
    chain_head: str,
    public_randomness: str,
    winners: int,
    alternates: int,
    frozen_at: datetime,
    drawn_at: datetime,
) -> dict[str, object]:
    """Return the draw's public certificate as a JSON-ready dict (str, int and lists only).

    ``order`` holds the first ``winners + alternates`` pseudonyms drawn: winners first,
    then alternates in the order they are called. The result passes
    ``verify_certificate``: a seed that does not match ``seed_commitment``, negative
    counts, a malformed chain head or anything ``draw_order`` refuses raise ``ValueError``
    instead of producing a certificate that would fail.
    """
    ordered = _sorted_unique(entries)
    digest = list_digest(ordered)
    pseudonyms = [e.pseudonym for e in ordered]
    weights = [e.weight for e in ordered]
    fields = certificate_fields(
        contest=contest,
        seed_hex=seed_hex,
        seed_commitment=seed_commitment,
        digest=digest,
        chain_head=chain_head,
        public_randomness=public_randomness,
        winners=winners,
        alternates=alternates,
        order=draw_sorted(
            seed_hex, digest, pseudonyms, weights, winners + alternates, public_randomness
        ),
        frozen_at=frozen_at,
        drawn_at=drawn_at,
    )
    return {**fields, "entries": [[e.pseudonym, e.weight] for e in ordered]}


def certificate_fields(
    *,
    contest: str,
    seed_hex: str,
    seed_commitment: str,
    digest: str,
    chain_head: str,
    public_randomness: str,
    winners: int,
    alternates: int,
    order: list[str],
    frozen_at: datetime,
    drawn_at: datetime,
) -> dict[str, object]:
    """Every field of the certificate but its entries, for a draw already computed over
    the list whose digest is given: a large list is stored once, as rows, and written
    into the certificate when it is downloaded. Refuses (``ValueError``) what
    ``build_certificate`` refuses."""
    for name, value in (("winners", winners), ("alternates", alternates)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"the number of {name} must be a whole number >= 0, not {value!r}")
    if commitment(seed_hex) != seed_commitment:
        raise ValueError("the seed does not match the published commitment")
    _check_hex("chain head", chain_head)
    _check_hex("list digest", digest)
    return {
        "format": FORMAT,
        "contest": contest,
        "seed": seed_hex,
        "seed_commitment": seed_commitment,
        "list_digest": digest,
        "chain_head": chain_head,
        "public_randomness": public_randomness,
        "winners": winners,
        "alternates": alternates,
        "order": order,
        "frozen_at": utc_text(frozen_at),
        "drawn_at": utc_text(drawn_at),
        "algorithm": ALGORITHM,
    }


def verify_v1(cert: Mapping[str, object]) -> list[str]:
    """Recompute what a version 1 certificate alone can prove; return the problems found.

    Checked: the format, that the seed hashes to its commitment, that the entries are a
    valid sorted list hashing to the list digest, and that drawing ``winners +
    alternates`` from them gives exactly the published order. An empty list means the
    certificate holds. Never raises: malformed input (not an object, missing fields,
    wrong types) is reported as problems. What needs outside knowledge (that the
    commitment, digest and chain head match what was published at publication and at
    close) is left to the reader.
    """
    if not isinstance(cert, Mapping):
        return ["the certificate is not a JSON object"]
    problems: list[str] = []

    def text_field(name: str) -> str | None:
        if name not in cert:
            problems.append(f"the field {name!r} is missing")
            return None
        value = cert[name]
        if not isinstance(value, str):
            problems.append(f"the field {name!r} must be text")
            return None
        return value

    def hex_field(name: str) -> str | None:
        value = text_field(name)
        if value is not None and not is_hex64(value):
            problems.append(f"the field {name!r} must be 64 lowercase hexadecimal characters")
            return None
        return value

    def count_field(name: str) -> int | None:
        if name not in cert:
            problems.append(f"the field {name!r} is missing")
            return None
        value = cert[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(f"the field {name!r} must be a whole number >= 0")
            return None
        return value

    def time_field(name: str) -> datetime | None:
        value = text_field(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            problems.append(f"the field {name!r} must be an ISO 8601 time with a time zone")
            return None
        return moment

    fmt = text_field("format")
    if fmt is not None and fmt != FORMAT:
        problems.append(f"unknown certificate format {fmt!r} (this version checks {FORMAT!r})")
    text_field("contest")
    seed = hex_field("seed")
    seed_commitment = hex_field("seed_commitment")
    claimed_digest = hex_field("list_digest")
    hex_field("chain_head")
    public_randomness = text_field("public_randomness")
    winners = count_field("winners")
    alternates = count_field("alternates")
    frozen_at = time_field("frozen_at")
    drawn_at = time_field("drawn_at")
    entries = parse_entries(cert.get("entries"), "entries" in cert, problems)
    order = _parse_order(cert.get("order"), "order" in cert, problems)

    if seed is not None and seed_commitment is not None and commitment(seed) != seed_commitment:
        problems.append(
            f"the seed does not match its commitment: the seed hashes to {commitment(seed)}, "
            f"the certificate commits to {seed_commitment}"
        )
    digest = list_digest(entries) if entries is not None else None
    if digest is not None and claimed_digest is not None and digest != claimed_digest:
        problems.append(
            f"the list digest does not match the entries: the entries hash to {digest}, "
            f"the certificate says {claimed_digest}"
        )
    if frozen_at is not None and drawn_at is not None and drawn_at < frozen_at:
        problems.append("the draw is dated before the list was frozen")

    if (
        seed is None
        or digest is None
        or entries is None
        or public_randomness is None
        or winners is None
        or alternates is None
        or order is None
    ):
        problems.append("the order could not be recomputed because of the problems above")
        return problems
    expected = draw_order(seed, digest, entries, winners + alternates, public_randomness)
    problems.extend(compare_orders(expected, order))
    return problems


def parse_entries(raw: object, present: bool, problems: list[str]) -> list[FrozenEntry] | None:
    """Return the certificate's entries if they form a valid sorted list, else report why."""
    if not present:
        problems.append("the field 'entries' is missing")
        return None
    if not isinstance(raw, list):
        problems.append("the field 'entries' must be a list of [pseudonym, weight] pairs")
        return None
    entries: list[FrozenEntry] = []
    valid = True
    for position, item in enumerate(raw, start=1):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            problems.append(f"entry {position} is not a [pseudonym, weight] pair")
            valid = False
            continue
        try:
            entries.append(FrozenEntry(item[0], item[1]))
        except ValueError as error:
            problems.append(f"entry {position}: {error}")
            valid = False
    if not valid:
        return None
    pseudonyms = [e.pseudonym for e in entries]
    duplicates = sorted(p for p, seen in Counter(pseudonyms).items() if seen > 1)
    if duplicates:
        problems.append(f"pseudonyms listed more than once: {', '.join(duplicates)}")
        return None
    if pseudonyms != sorted(pseudonyms):
        # Harmless for the digest, which sorts anyway, but no genuine certificate does it.
        problems.append("the entries are not sorted by pseudonym")
    return entries


def _parse_order(raw: object, present: bool, problems: list[str]) -> list[str] | None:
    """Return the certificate's order if it is a list of text, else report why."""
    if not present:
        problems.append("the field 'order' is missing")
        return None
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        problems.append("the field 'order' must be a list of pseudonyms")
        return None
    return [str(p) for p in raw]


def compare_orders(expected: list[str], published: list[str]) -> list[str]:
    """Describe how the published order differs from the recomputed one: first rank, length."""
    problems: list[str] = []
    for rank, (want, got) in enumerate(zip(expected, published, strict=False), start=1):
        if want != got:
            problems.append(
                f"the order does not match the draw: rank {rank} should be {want!r}, "
                f"the certificate says {got!r}"
            )
            break
    if len(expected) != len(published):
        problems.append(
            f"the order lists {len(published)} pseudonyms; the draw gives {len(expected)}"
        )
    return problems


def _sorted_unique(entries: Iterable[FrozenEntry]) -> list[FrozenEntry]:
    """Return the entries sorted by pseudonym; ``ValueError`` if a pseudonym repeats."""
    ordered = sorted(entries, key=lambda e: e.pseudonym)
    for before, after in pairwise(ordered):
        if before.pseudonym == after.pseudonym:
            raise ValueError(f"the pseudonym {before.pseudonym!r} appears more than once")
    return ordered


def is_hex64(value: str) -> bool:
    return len(value) == 64 and all(c in _HEX for c in value)


def _check_hex(name: str, value: str) -> None:
    if not isinstance(value, str) or not is_hex64(value):
        raise ValueError(f"the {name} must be 64 lowercase hexadecimal characters")


def check_contest(contest: str) -> None:
    if not isinstance(contest, str) or not _CONTEST.fullmatch(contest):
        raise ValueError("the contest must be its slug: 1 to 80 of a-z, 0-9, hyphen and underscore")


def _check_pseudonym(pseudonym: str) -> None:
    # Spaces and line breaks separate fields in the list and the chain: allowing them
    # would let two different lists produce the same text.
    if not isinstance(pseudonym, str) or not pseudonym:
        raise ValueError("a pseudonym must be non-empty text")
    if any(c.isspace() or not c.isprintable() for c in pseudonym):
        raise ValueError(f"the pseudonym {pseudonym!r} contains spaces or control characters")


ALGORITHM_V2 = (
    "Version 2. The draw key is the SHA-256 (hex) of the UTF-8 lines 'gymkana-draw/2', "
    "'contest <slug>', 'seed <hex>', 'list_digest <hex>', 'chain_head <hex>', 'winners <n>', "
    "'alternates <n>' and 'beacon none' or 'beacon <source> <chain hash> <round> "
    "<randomness>', each ending in a line feed. Pick k hashes the text '<key>:<k>'; the walk "
    "over the list sorted by pseudonym is version 1's. Full description: docs/draw.md."
)


def certificate_fields_v2(
    *,
    contest: str,
    seed_hex: str,
    seed_commitment: str,
    commitment_published_at: datetime,
    digest: str,
    listed: int,
    chain_head: str,
    published_at: datetime,
    beacon: dict[str, object] | None,
    winners: int,
    alternates: int,
    key: str,
    order: list[str],
    drawn_at: datetime,
) -> dict[str, object]:
    """Every field of a version 2 certificate but its entries (written in when it is
    downloaded). ``published_at`` is when the frozen list, its digest and the chain head
    became public; ``beacon`` the named round with its signature, or None for a draw the
    organiser could have steered."""
    if commitment(seed_hex) != seed_commitment:
        raise ValueError("the seed does not match the published commitment")
    return {
        "format": FORMAT_V2,
        "contest": contest,
        "seed": seed_hex,
        "seed_commitment": seed_commitment,
        "commitment_published_at": utc_text(commitment_published_at),
        "chain_genesis": chain_genesis(contest, seed_commitment),
        "chain_head": chain_head,
        "chain_published_at": utc_text(published_at),
        "list_digest": digest,
        "listed": listed,
        "list_published_at": utc_text(published_at),
        "beacon": beacon,
        "steerable": beacon is None,
        "winners": winners,
        "alternates": alternates,
        "draw_key": key,
        "order": order,
        "drawn_at": utc_text(drawn_at),
        "algorithm": ALGORITHM_V2,
    }


def build_certificate_v2(
    *,
    contest: str,
    seed_hex: str,
    seed_commitment: str,
    commitment_published_at: datetime,
    entries: Iterable[FrozenEntry],
    chain_head: str,
    published_at: datetime,
    beacon: dict[str, object] | None,
    winners: int,
    alternates: int,
    drawn_at: datetime,
) -> dict[str, object]:
    """A whole version 2 certificate, entries included, drawn in memory: what a contest
    of that list publishes (``beacon`` holds at least source, chain_hash, round and
    randomness when there is one)."""
    ordered = _sorted_unique(entries)
    digest = list_digest(ordered)
    line = (
        beacon_line(
            str(beacon["source"]),
            str(beacon["chain_hash"]),
            int(str(beacon["round"])),
            str(beacon["randomness"]),
        )
        if beacon is not None
        else beacon_line("none", "", 0, "")
    )
    key = draw_key(
        contest=contest,
        seed_hex=seed_hex,
        digest=digest,
        chain_head=chain_head,
        winners=winners,
        alternates=alternates,
        beacon=line,
    )
    fields = certificate_fields_v2(
        contest=contest,
        seed_hex=seed_hex,
        seed_commitment=seed_commitment,
        commitment_published_at=commitment_published_at,
        digest=digest,
        listed=len(ordered),
        chain_head=chain_head,
        published_at=published_at,
        beacon=beacon,
        winners=winners,
        alternates=alternates,
        key=key,
        order=draw_v2(
            key, [e.pseudonym for e in ordered], [e.weight for e in ordered], winners + alternates
        ),
        drawn_at=drawn_at,
    )
    return {**fields, "entries": [[e.pseudonym, e.weight] for e in ordered]}
