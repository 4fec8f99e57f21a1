"""Checking a published draw offline: the certificate file (strictly), either version of
the algorithm, the beacon round's signature and the entry chain log."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contests import beacon, draw

# The times every certificate writes: UTC, six digits of microseconds, a Z.
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
# Reason codes of the chain log: what put an entry in the list or kept it out.
LISTED = "listed"
REASONS = frozenset({LISTED, "disqualified", "incomplete"})
# A certificate nests three levels deep; anything far deeper is not one.
MAX_DEPTH = 8
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
_INNERMOST = re.compile(r"\[\]|\{\}")


class FileError(ValueError):
    """The file is not a well-formed certificate or chain log; the message says where."""


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    # True but worth saying: a demo beacon, a draw without a beacon, an unknown network.
    notices: list[str] = field(default_factory=list)


def parse_certificate(data: bytes) -> object:
    """The certificate's JSON, refusing what two readers could read differently: a
    byte-order mark, bytes that are not UTF-8, a key given twice, NaN or Infinity, text
    with lone surrogates, nesting deeper than any certificate."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise FileError("the file starts with a byte-order mark; save it as plain UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileError(f"the file is not valid UTF-8 (byte {error.start})") from None

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise FileError(f"the key {key!r} appears twice in one object")
            seen[key] = value
        return seen

    def refuse(name: str) -> None:
        raise FileError(f"{name} is not a number a certificate can hold")

    if _too_deep(text):
        raise FileError("the file is not valid JSON, or is nested too deeply to be a certificate")
    try:
        value = json.loads(text, object_pairs_hook=unique, parse_constant=refuse)
    except FileError:
        raise
    except RecursionError:
        raise FileError("the file is nested too deeply to be a certificate") from None
    except ValueError as error:
        raise FileError(f"the file is not valid JSON: {error}") from None
    _check_text(value)
    return value


def _too_deep(text: str) -> bool:
    """Whether the text's arrays and objects, strings set aside, nest deeper than a
    certificate ever does, or do not close: checked before parsing, since a parser's own
    recursion on hostile input is not safe to rely on. Each pass removes the innermost
    pairs, at the regular expression engine's speed."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        if not brackets:
            return False
        brackets = _INNERMOST.sub("", brackets)
    return bool(brackets)


def _check_text(value: object, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise FileError("the file is nested too deeply to be a certificate")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FileError("the file holds text with a lone surrogate (\\ud800-\\udfff)") from None
    elif isinstance(value, list):
        for item in value:
            _check_text(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, depth + 1)
            _check_text(item, depth + 1)


def verify(cert: object) -> Report:
    """Everything the certificate alone can prove, for either version."""
    report = Report()
    if not isinstance(cert, Mapping):
        report.problems.append("the certificate is not a JSON object")
        return report
    if cert.get("format") == draw.FORMAT:
        report.problems = draw.verify_v1(cert)
        report.notices.append(
            "a version 1 draw: no beacon was named, so whoever held the seed could have steered it"
        )
        return report
    if cert.get("format") != draw.FORMAT_V2:
        report.problems.append(
            f"unknown certificate format {cert.get('format')!r} "
            f"(this version checks {draw.FORMAT!r} and {draw.FORMAT_V2!r})"
        )
        return report
    _verify_v2(cert, report)
    return report


def _verify_v2(cert: Mapping[str, Any], report: Report) -> None:
    problems = report.problems
    known = {
        "format", "contest", "seed", "seed_commitment", "commitment_published_at",
        "chain_genesis", "chain_head", "chain_published_at", "list_digest", "listed",
        "list_published_at", "beacon", "steerable", "winners", "alternates", "draw_key",
        "order", "drawn_at", "algorithm", "entries",
    }  # fmt: skip
    for name in sorted(set(cert) - known):
        problems.append(f"the field {name!r} is not part of a version 2 certificate")
    for name in sorted(known - set(cert)):
        problems.append(f"the field {name!r} is missing")
    if problems:
        return
    try:
        contest = _text(cert, "contest")
        draw.check_contest(contest)
        seed = _hex(cert, "seed")
        seed_commitment = _hex(cert, "seed_commitment")
        chain_head = _hex(cert, "chain_head")
        digest = _hex(cert, "list_digest")
        key = _hex(cert, "draw_key")
        winners = _count(cert, "winners")
        alternates = _count(cert, "alternates")
        listed = _count(cert, "listed")
        times = {
            name: _time(cert, name)
            for name in (
                "commitment_published_at",
                "chain_published_at",
                "list_published_at",
                "drawn_at",
            )
        }
        order = cert["order"]
        if not isinstance(order, list) or not all(isinstance(p, str) for p in order):
            raise ValueError("the field 'order' must be a list of pseudonyms")
        if not isinstance(cert["steerable"], bool):
            raise ValueError("the field 'steerable' must be true or false")
    except ValueError as error:
        problems.append(str(error))
        return
    if draw.commitment(seed) != seed_commitment:
        problems.append("the seed does not match its commitment")
    if cert["chain_genesis"] != draw.chain_genesis(contest, seed_commitment):
        problems.append("the chain does not start from this contest and this commitment")
    entries = draw.parse_entries(cert["entries"], True, problems)
    if entries is not None:
        if draw.list_digest(entries) != digest:
            problems.append("the list digest does not match the entries")
        if len(entries) != listed:
            problems.append(f"'listed' says {listed} entries; the list holds {len(entries)}")
    if not times["commitment_published_at"] <= times["list_published_at"] <= times["drawn_at"]:
        problems.append("the times are out of order: commitment, then list, then draw")
    public = max(times["list_published_at"], times["chain_published_at"])
    line = _check_beacon(cert, public, times["drawn_at"], report)
    if line is None:
        return
    try:
        expected_key = draw.draw_key(
            contest=contest,
            seed_hex=seed,
            digest=digest,
            chain_head=chain_head,
            winners=winners,
            alternates=alternates,
            beacon=line,
        )
    except ValueError as error:
        problems.append(str(error))
        return
    if expected_key != key:
        problems.append("the draw key does not match the fields it is made of")
    if entries is None:
        return
    ordered = sorted(entries, key=lambda e: e.pseudonym)
    expected = draw.draw_v2(
        expected_key,
        [e.pseudonym for e in ordered],
        [e.weight for e in ordered],
        winners + alternates,
    )
    problems.extend(draw.compare_orders(expected, order))


def _check_beacon(
    cert: Mapping[str, Any], list_published: datetime, drawn: datetime, report: Report
) -> str | None:
    """The beacon's line of the key if the round holds, else None (problems said)."""
    named = cert["beacon"]
    if named is None:
        if cert["steerable"] is not True:
            report.problems.append("a draw without a beacon must say 'steerable': true")
        report.notices.append(
            "this draw named no beacon: the organiser, who held the seed, could have steered it"
        )
        return draw.beacon_line("none", "", 0, "")
    if cert["steerable"] is not False:
        report.problems.append("a draw with a beacon must say 'steerable': false")
    if not isinstance(named, Mapping):
        report.problems.append("the field 'beacon' must be an object or null")
        return None
    wanted = {
        "source", "scheme", "chain_hash", "public_key", "period", "genesis", "round",
        "round_at", "signature", "randomness",
    }  # fmt: skip
    if set(named) != wanted:
        report.problems.append(f"the beacon must have exactly the fields {sorted(wanted)}")
        return None
    try:
        source = named["source"]
        if source not in {beacon.DRAND, beacon.DEMO} or named["scheme"] != beacon.SCHEME:
            raise ValueError(f"unknown beacon source or scheme {source!r}, {named['scheme']!r}")
        number = _count(named, "round")
        period = _count(named, "period")
        genesis = _count(named, "genesis")
        round_at = _time(named, "round_at")
        chain_hash = _hex(named, "chain_hash")
        beacon.check_round(named["public_key"], number, named["signature"], named["randomness"])
    except (ValueError, beacon.BeaconError) as error:
        report.problems.append(f"beacon: {error}")
        return None
    if round_at != datetime.fromtimestamp(genesis + (number - 1) * period, UTC):
        report.problems.append("beacon: 'round_at' is not the round's time on that network")
    if not list_published < round_at <= drawn:
        report.problems.append(
            "beacon: the round must come out after the list and the chain were published, "
            "and before the draw"
        )
    if chain_hash == beacon.QUICKNET_CHAIN_HASH and (
        named["public_key"] != beacon.QUICKNET_PUBLIC_KEY
        or (period, genesis) != (beacon.QUICKNET_PERIOD, beacon.QUICKNET_GENESIS)
    ):
        report.problems.append("beacon: this is not quicknet's public key, period or genesis")
    if source == beacon.DEMO:
        report.notices.append(
            "this draw used the demo's own beacon, whose key is public: a demonstration, "
            "not a draw nobody could steer"
        )
    elif chain_hash != beacon.QUICKNET_CHAIN_HASH:
        report.notices.append(
            f"the beacon network {chain_hash} is not quicknet: check its public key against "
            "its relays' /info"
        )
    return draw.beacon_line(str(source), chain_hash, number, str(named["randomness"]))


def verify_chain(lines: Iterable[str], cert: Mapping[str, Any]) -> list[str]:
    """Replay the chain log (one line per entry, in arrival order: link, pseudonym,
    arrival time, reason code) from the certificate's genesis; check every link, the
    head, that arrivals are in order, and that the entries marked 'listed' are exactly
    the frozen list. Reads the log once, a line at a time."""
    problems: list[str] = []
    start = cert.get("chain_genesis", draw.GENESIS)
    raw_entries = cert.get("entries")
    listed = {
        item[0]
        for item in (raw_entries if isinstance(raw_entries, list) else [])
        if isinstance(item, list) and item and isinstance(item[0], str)
    }
    head = start if isinstance(start, str) else draw.GENESIS
    previous_time: datetime | None = None
    seen_listed = 0
    published = cert.get("chain_published_at")
    for number, raw in enumerate(lines, start=1):
        parts = raw.rstrip("\n").split(" ")
        if len(parts) != 4:
            problems.append(f"line {number}: expected 'link pseudonym time reason'")
            break
        link, pseudonym, moment_text, reason = parts
        if not _TIME.fullmatch(moment_text) or reason not in REASONS:
            problems.append(f"line {number}: bad time or unknown reason code {reason!r}")
            break
        moment = datetime.fromisoformat(moment_text)
        try:
            head = draw.chain_link(head, pseudonym, moment)
        except ValueError as error:
            problems.append(f"line {number}: {error}")
            break
        if link != head:
            problems.append(f"line {number}: the link does not follow from the lines before it")
            break
        if previous_time is not None and moment < previous_time:
            problems.append(f"line {number}: arrived before the line above it")
        previous_time = moment
        if reason == LISTED:
            seen_listed += 1
            if pseudonym not in listed:
                problems.append(f"line {number}: {pseudonym} is marked listed but is not")
        elif pseudonym in listed:
            problems.append(f"line {number}: {pseudonym} is in the list but marked {reason}")
    if problems:
        return problems
    if head != cert.get("chain_head"):
        problems.append("the chain log does not end at the certificate's chain head")
    if seen_listed != len(listed):
        problems.append(
            f"the list holds {len(listed)} entries; the chain log marks {seen_listed} listed"
        )
    if (
        isinstance(published, str)
        and _TIME.fullmatch(published)
        and previous_time is not None
        and datetime.fromisoformat(published) < previous_time
    ):
        problems.append("an entry arrived after the chain was published")
    return problems


def _text(cert: Mapping[str, Any], name: str) -> str:
    value = cert[name]
    if not isinstance(value, str):
        raise ValueError(f"the field {name!r} must be text")
    return value


def _hex(cert: Mapping[str, Any], name: str) -> str:
    value = _text(cert, name)
    if not draw.is_hex64(value):
        raise ValueError(f"the field {name!r} must be 64 lowercase hexadecimal characters")
    return value


def _count(cert: Mapping[str, Any], name: str) -> int:
    value = cert[name]
    # Below 2**53: every language's JSON reader gets the same number.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise ValueError(f"the field {name!r} must be a whole number from 0 to 2**53 - 1")
    return value


def _time(cert: Mapping[str, Any], name: str) -> datetime:
    value = _text(cert, name)
    if not _TIME.fullmatch(value):
        raise ValueError(f"the field {name!r} must be a time like 2026-11-25T10:00:00.000000Z")
    return datetime.fromisoformat(value)


def verify_certificate(cert: Mapping[str, object]) -> list[str]:
    """The problems of a certificate of either version; an empty list means it holds
    (``verify`` also gives the notices worth printing)."""
    if isinstance(cert, Mapping) and cert.get("format") == draw.FORMAT_V2:
        return verify(cert).problems
    return draw.verify_v1(cert)
