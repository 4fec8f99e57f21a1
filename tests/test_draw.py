"""The verifiable draw: what participants and auditors are promised in docs/draw.md."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contests.draw import (
    GENESIS,
    FrozenEntry,
    build_certificate,
    canonical_list,
    chain_link,
    commitment,
    draw_order,
    list_digest,
    new_seed,
    replay_chain,
)
from contests.verify import verify_certificate

DOCS = Path(__file__).resolve().parents[1] / "docs" / "draw.md"

# The worked example of docs/draw.md: any re-implementation must reproduce these values.
VECTOR_SEED = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
VECTOR_COMMITMENT = "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"
VECTOR_ENTRIES = [FrozenEntry("m7tx", 3), FrozenEntry("ZQ4H", 2), FrozenEntry("a9k2", 1)]
VECTOR_DIGEST = "c3e4d44967d9d05eebff986950ecbd69a446a944d93e62568184aa5b63420f47"
VECTOR_ORDER = ["m7tx", "ZQ4H", "a9k2"]
VECTOR_PUBLIC_RANDOMNESS = "lottery 2026-12-01: 04 17 23 35 41"
VECTOR_ORDER_WITH_PUBLIC_RANDOMNESS = ["a9k2", "ZQ4H", "m7tx"]
VECTOR_ARRIVALS = [
    ("a9k2", datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)),
    ("ZQ4H", datetime(2026, 11, 25, 10, 30, 15, 250000, tzinfo=UTC)),
    ("m7tx", datetime(2026, 11, 26, 8, 5, 0, tzinfo=UTC)),
]
VECTOR_LINKS = [
    "7160b877abf76fd416abf8644116988e4b844b5cbd151f4804bbfd802cfcb191",
    "6783be9cc97a50d60d8425b827adafa11aa784a8d76518cb4a15b98ba0a7d0fd",
    "a919114daf332f2ed24b2b16b57ff368e7b91a5c9157c5b24a24d24cf8fcdfb9",
]


def seed_number(i: int) -> str:
    """A fixed, distinct, valid seed per number, so statistical tests are reproducible."""
    return hashlib.sha256(f"test seed {i}".encode()).hexdigest()


def crowd(size: int) -> list[FrozenEntry]:
    return [FrozenEntry(f"p{i:03d}", 1 + i % 4) for i in range(size)]


def certificate(
    entries: list[FrozenEntry] | None = None, public_randomness: str = ""
) -> dict[str, Any]:
    """A genuine certificate, as a reader gets it: parsed back from JSON text."""
    seed = seed_number(0)
    cert = build_certificate(
        contest="summer-gymkana",
        seed_hex=seed,
        seed_commitment=commitment(seed),
        entries=crowd(12) if entries is None else entries,
        chain_head=VECTOR_LINKS[-1],
        public_randomness=public_randomness,
        winners=3,
        alternates=2,
        frozen_at=datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        drawn_at=datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
    )
    parsed: dict[str, Any] = json.loads(json.dumps(cert))
    return parsed


def doc_block(language: str, after: str = "## Version 1") -> str:
    """The first code block in ``language`` after the heading ``after`` of docs/draw.md."""
    text = DOCS.read_text(encoding="utf-8")
    assert after in text, f"docs/draw.md has no heading {after!r}"
    match = re.search(rf"```{language}\n(.*?)```", text[text.index(after) :], re.DOTALL)
    assert match is not None, f"docs/draw.md has no {language} block after {after!r}"
    return match.group(1)


# The documented test vector


def test_the_documented_example_gives_the_documented_values() -> None:
    assert commitment(VECTOR_SEED) == VECTOR_COMMITMENT
    assert canonical_list(VECTOR_ENTRIES) == b"ZQ4H 2\na9k2 1\nm7tx 3\n"
    assert list_digest(VECTOR_ENTRIES) == VECTOR_DIGEST
    assert draw_order(VECTOR_SEED, VECTOR_DIGEST, VECTOR_ENTRIES, 3) == VECTOR_ORDER


def test_the_documented_example_with_public_randomness_gives_the_documented_order() -> None:
    order = draw_order(VECTOR_SEED, VECTOR_DIGEST, VECTOR_ENTRIES, 3, VECTOR_PUBLIC_RANDOMNESS)
    assert order == VECTOR_ORDER_WITH_PUBLIC_RANDOMNESS


def test_the_documented_chain_gives_the_documented_links() -> None:
    links = []
    previous = GENESIS
    for pseudonym, entered_at in VECTOR_ARRIVALS:
        previous = chain_link(previous, pseudonym, entered_at)
        links.append(previous)
    assert links == VECTOR_LINKS
    assert replay_chain(VECTOR_ARRIVALS) == VECTOR_LINKS[-1]


def test_the_certificate_printed_in_the_docs_verifies() -> None:
    cert = json.loads(doc_block("json"))
    assert verify_certificate(cert) == []
    assert cert["order"] == VECTOR_ORDER
    assert cert["chain_head"] == VECTOR_LINKS[-1]


def test_the_standalone_program_in_the_docs_accepts_a_genuine_certificate() -> None:
    cert = certificate(public_randomness="beacon round 42")
    output = subprocess.run(
        [sys.executable, "-c", doc_block("python")],
        input=json.dumps(cert),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = output.splitlines()
    assert len(lines) == 3
    assert all(line.endswith("True") for line in lines)


def test_the_standalone_program_in_the_docs_rejects_a_swapped_order() -> None:
    cert = certificate()
    cert["order"][0], cert["order"][1] = cert["order"][1], cert["order"][0]
    output = subprocess.run(
        [sys.executable, "-c", doc_block("python")],
        input=json.dumps(cert),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.splitlines()[-1].endswith("False")


# Seed and commitment


def test_a_new_seed_is_32_fresh_random_bytes_in_lowercase_hex() -> None:
    first, second = new_seed(), new_seed()
    assert len(first) == 64
    assert first == first.lower()
    assert len(bytes.fromhex(first)) == 32
    assert first != second


def test_the_commitment_is_the_hash_of_the_seed_bytes() -> None:
    assert commitment("00" * 32) == (
        "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    )


def test_a_revealed_seed_matches_its_commitment_and_no_other_seed_does() -> None:
    seed = new_seed()
    published = commitment(seed)
    assert commitment(seed) == published
    assert commitment(new_seed()) != published


# Frozen list and digest


def test_the_digest_does_not_depend_on_the_order_entries_are_given_in() -> None:
    assert list_digest(reversed(VECTOR_ENTRIES)) == VECTOR_DIGEST


def test_changing_a_weight_changes_the_digest() -> None:
    changed = [FrozenEntry("m7tx", 4), *VECTOR_ENTRIES[1:]]
    assert list_digest(changed) != VECTOR_DIGEST


def test_adding_an_entry_changes_the_digest() -> None:
    assert list_digest([*VECTOR_ENTRIES, FrozenEntry("late", 1)]) != VECTOR_DIGEST


def test_removing_an_entry_changes_the_digest() -> None:
    assert list_digest(VECTOR_ENTRIES[1:]) != VECTOR_DIGEST


# The draw


def test_the_same_inputs_always_give_the_same_order() -> None:
    entries = crowd(30)
    digest = list_digest(entries)
    first = draw_order(seed_number(1), digest, entries, 10, "x")
    again = draw_order(seed_number(1), digest, list(reversed(entries)), 10, "x")
    assert first == again


def test_a_different_public_randomness_gives_a_different_order() -> None:
    entries = crowd(20)
    digest = list_digest(entries)
    without = draw_order(seed_number(1), digest, entries, 20)
    with_beacon = draw_order(seed_number(1), digest, entries, 20, "beacon round 42")
    assert without != with_beacon
    assert sorted(without) == sorted(with_beacon)


def test_a_different_seed_gives_a_different_order() -> None:
    entries = crowd(20)
    digest = list_digest(entries)
    assert draw_order(seed_number(1), digest, entries, 20) != draw_order(
        seed_number(2), digest, entries, 20
    )


def test_no_entry_is_drawn_twice() -> None:
    entries = crowd(50)
    order = draw_order(seed_number(3), list_digest(entries), entries, 50)
    assert len(order) == 50
    assert set(order) == {e.pseudonym for e in entries}


def test_an_entry_with_weight_9_among_nine_of_weight_1_wins_about_half_the_time() -> None:
    entries = [FrozenEntry("heavy", 9)] + [FrozenEntry(f"light{i}", 1) for i in range(9)]
    digest = list_digest(entries)
    wins = sum(draw_order(seed_number(i), digest, entries, 1) == ["heavy"] for i in range(2000))
    assert 800 <= wins <= 1200


def published_walk(
    seed: str, digest: str, entries: list[FrozenEntry], count: int, randomness: str
) -> list[str]:
    """The draw exactly as docs/draw.md words it: a walk over the remaining entries."""
    remaining = sorted(entries, key=lambda e: e.pseudonym)
    order = []
    for k in range(count):
        if not remaining:
            break
        key = f"{seed}:{digest}:{randomness}:{k}".encode()
        r = int.from_bytes(hashlib.sha256(key).digest(), "big") % sum(e.weight for e in remaining)
        for index, entry in enumerate(remaining):
            if r < entry.weight:
                order.append(remaining.pop(index).pseudonym)
                break
            r -= entry.weight
    return order


@settings(max_examples=300, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=1, max_value=40), max_size=70),
    count=st.integers(min_value=0, max_value=80),
    seed=st.integers(min_value=0, max_value=10_000),
    randomness=st.sampled_from(["", "round 42", "ñ"]),
)
def test_the_fast_draw_picks_exactly_what_the_published_walk_picks(
    weights: list[int], count: int, seed: int, randomness: str
) -> None:
    entries = [FrozenEntry(f"e{(i * 7919) % 1000:03d}x{i}", w) for i, w in enumerate(weights)]
    digest = list_digest(entries)
    expected = published_walk(seed_number(seed), digest, entries, count, randomness)
    assert draw_order(seed_number(seed), digest, entries, count, randomness) == expected


def test_drawing_more_than_the_list_returns_everyone_once() -> None:
    order = draw_order(VECTOR_SEED, VECTOR_DIGEST, VECTOR_ENTRIES, 10)
    assert order == VECTOR_ORDER


def test_drawing_nothing_returns_nobody() -> None:
    assert draw_order(VECTOR_SEED, VECTOR_DIGEST, VECTOR_ENTRIES, 0) == []


def test_an_empty_list_draws_nobody() -> None:
    assert draw_order(VECTOR_SEED, list_digest([]), [], 3) == []


@pytest.mark.parametrize(
    ("attempt", "message"),
    [
        (lambda: FrozenEntry("a9k2", 0), "at least 1"),
        (lambda: FrozenEntry("a9k2", -2), "at least 1"),
        (lambda: FrozenEntry("two words", 1), "spaces"),
        (lambda: FrozenEntry("", 1), "non-empty"),
        (
            lambda: draw_order(
                VECTOR_SEED, VECTOR_DIGEST, [*VECTOR_ENTRIES, FrozenEntry("ZQ4H", 5)], 3
            ),
            "more than once",
        ),
        (lambda: draw_order("abc", VECTOR_DIGEST, VECTOR_ENTRIES, 3), "seed"),
        (lambda: draw_order(VECTOR_SEED.upper(), VECTOR_DIGEST, VECTOR_ENTRIES, 3), "seed"),
        (lambda: draw_order(VECTOR_SEED, VECTOR_DIGEST, VECTOR_ENTRIES, -1), ">= 0"),
        (lambda: commitment("not hex" * 9), "seed"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    attempt: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        attempt()


# Certificate


def test_a_genuine_certificate_verifies() -> None:
    assert verify_certificate(certificate()) == []
    assert verify_certificate(certificate(public_randomness="beacon round 42")) == []


def test_the_certificate_lists_winners_then_alternates_from_the_draw() -> None:
    cert = certificate()
    entries = crowd(12)
    expected = draw_order(seed_number(0), list_digest(entries), entries, 5)
    assert cert["order"] == expected
    assert cert["entries"] == sorted([e.pseudonym, e.weight] for e in entries)
    assert cert["frozen_at"] == "2026-11-30T23:00:00.000000Z"


def test_a_certificate_cannot_be_built_with_a_seed_that_breaks_its_commitment() -> None:
    with pytest.raises(ValueError, match="commitment"):
        build_certificate(
            contest="summer-gymkana",
            seed_hex=seed_number(0),
            seed_commitment=commitment(seed_number(1)),
            entries=VECTOR_ENTRIES,
            chain_head=GENESIS,
            public_randomness="",
            winners=1,
            alternates=0,
            frozen_at=datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
            drawn_at=datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
        )


def swap_first_two_ranks(cert: dict[str, Any]) -> None:
    cert["order"][0], cert["order"][1] = cert["order"][1], cert["order"][0]


def change_seed(cert: dict[str, Any]) -> None:
    cert["seed"] = seed_number(99)


def change_seed_and_commitment(cert: dict[str, Any]) -> None:
    cert["seed"] = seed_number(99)
    cert["seed_commitment"] = commitment(seed_number(99))


def change_a_weight(cert: dict[str, Any]) -> None:
    cert["entries"][0][1] += 5


def remove_an_entry(cert: dict[str, Any]) -> None:
    del cert["entries"][-1]


def add_an_entry(cert: dict[str, Any]) -> None:
    cert["entries"].append(["zz-late", 1])


def change_public_randomness(cert: dict[str, Any]) -> None:
    cert["public_randomness"] = "another value"


def drop_an_alternate(cert: dict[str, Any]) -> None:
    cert["order"].pop()


def duplicate_an_entry(cert: dict[str, Any]) -> None:
    cert["entries"].append(list(cert["entries"][0]))


def date_the_draw_before_the_close(cert: dict[str, Any]) -> None:
    cert["drawn_at"] = "2026-11-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    "tamper",
    [
        swap_first_two_ranks,
        change_seed,
        change_seed_and_commitment,
        change_a_weight,
        remove_an_entry,
        add_an_entry,
        change_public_randomness,
        drop_an_alternate,
        duplicate_an_entry,
        date_the_draw_before_the_close,
    ],
)
def test_tampering_with_a_certificate_is_reported(tamper: Callable[[dict[str, Any]], None]) -> None:
    cert = certificate()
    tamper(cert)
    problems = verify_certificate(cert)
    assert problems
    assert all(isinstance(p, str) and p for p in problems)


def test_a_swapped_order_is_reported_at_the_rank_where_it_differs() -> None:
    cert = certificate()
    swap_first_two_ranks(cert)
    assert any("rank 1" in p for p in verify_certificate(cert))


def test_a_changed_weight_is_reported_as_a_digest_mismatch() -> None:
    cert = certificate()
    change_a_weight(cert)
    assert any("list digest" in p for p in verify_certificate(cert))


def test_a_changed_seed_is_reported_as_breaking_its_commitment() -> None:
    cert = certificate()
    change_seed(cert)
    assert any("commitment" in p for p in verify_certificate(cert))


@pytest.mark.parametrize(
    "garbage",
    [
        {},
        {"format": "gymkana-draw/1"},
        {"seed": 42, "entries": "everyone", "order": None, "winners": "three"},
        {"entries": [["ok", 1], ["zero", 0], ["float", 1.5], ["bool", True], "x", [1, 2]]},
        {"entries": [["a b", 1]], "winners": -1, "alternates": True, "seed": "zz" * 32},
        {"frozen_at": "yesterday", "drawn_at": "2026-12-01T20:00:00"},
        [],
        None,
        "certificate",
    ],
)
def test_malformed_certificates_are_reported_never_raised(garbage: Any) -> None:
    problems = verify_certificate(garbage)
    assert problems
    assert all(isinstance(p, str) and p for p in problems)


def test_a_certificate_missing_its_seed_names_the_missing_field() -> None:
    cert = certificate()
    del cert["seed"]
    assert any("'seed' is missing" in p for p in verify_certificate(cert))


# Hash chain


def test_reordering_two_entries_changes_the_chain_head() -> None:
    swapped = [VECTOR_ARRIVALS[1], VECTOR_ARRIVALS[0], VECTOR_ARRIVALS[2]]
    assert replay_chain(swapped) != VECTOR_LINKS[-1]


def test_inserting_an_entry_changes_the_chain_head() -> None:
    inserted = [
        *VECTOR_ARRIVALS[:2],
        ("late", datetime(2026, 11, 25, 11, 0, tzinfo=UTC)),
        VECTOR_ARRIVALS[2],
    ]
    assert replay_chain(inserted) != VECTOR_LINKS[-1]


def test_backdating_an_entry_changes_the_chain_head() -> None:
    moved = [*VECTOR_ARRIVALS[:2], ("m7tx", VECTOR_ARRIVALS[2][1] - timedelta(microseconds=1))]
    assert replay_chain(moved) != VECTOR_LINKS[-1]


def test_the_chain_hashes_the_documented_text_in_utc() -> None:
    madrid_winter = timezone(timedelta(hours=1))
    entered_at = datetime(2026, 11, 25, 11, 0, 0, tzinfo=madrid_winter)
    text = f"{GENESIS}\na9k2\n2026-11-25T10:00:00.000000Z"
    assert chain_link(GENESIS, "a9k2", entered_at) == hashlib.sha256(text.encode()).hexdigest()
    assert chain_link(GENESIS, "a9k2", entered_at) == VECTOR_LINKS[0]


def test_an_empty_chain_is_the_genesis_value() -> None:
    assert replay_chain([]) == GENESIS == "0" * 64


def test_a_time_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        chain_link(GENESIS, "a9k2", datetime(2026, 11, 25, 10, 0))
