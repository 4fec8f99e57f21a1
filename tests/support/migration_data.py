"""Run in its own process by tests/test_migrations.py: builds a database at the first
migration, fills it as the first release would have, applies the rest and prints what
became of the rows, as JSON. Its own process, because migrating resets Tortoise's state."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tortoise import Tortoise, connections
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api import migrate

from contests.db import close, tortoise_config

T = "'2026-01-01 10:00:00+00:00'"
FIRST_RELEASE = [
    "INSERT INTO brand (id, slug, name, site_domains, reply_to, public_key, created_at) "
    f"""VALUES (1, 'cafe', 'Café', '["cafe.example"]', 'hola@cafe.example', 'K1', {T})""",
    "INSERT INTO participant (id, public_id, display_name, email, email_verified, locale, "
    f"created_at) VALUES (1, 'P1', 'Ana', 'ana@example.com', TRUE, 'es', {T})",
    "INSERT INTO contest (id, brand_id, slug, title, description, status, starts_at, ends_at, "
    "timezone, alternates, rules_version, entry_chain_head, created_at) VALUES (1, 1, 'ruta', "
    f"'Ruta', '', 'live', {T}, '2027-01-01 10:00:00+00:00', 'UTC', 1, '1', 'x', {T})",
    "INSERT INTO step (id, contest_id, public_id, position, kind, title, clue, points, "
    "required, target_url, dwell_seconds, code_hash, created_at) VALUES (1, 1, 'S1', 0, "
    f"'visit', 'Origen', '', 2, TRUE, 'https://cafe.example/origen', 7, NULL, {T})",
    "INSERT INTO step (id, contest_id, public_id, position, kind, title, clue, points, "
    "required, unlocks_after_id, target_url, dwell_seconds, code_hash, created_at) VALUES "
    f"(2, 1, 'S2', 1, 'code', 'Carta', '', 3, TRUE, 1, NULL, 5, '{'c' * 64}', {T})",
    "INSERT INTO entry (id, contest_id, participant_id, public_id, status, locale, "
    f"consent_version, consented_at, chain_hash, created_at) VALUES (1, 1, 1, 'E1', 'active', "
    f"'es', '1', {T}, 'h', {T})",
    "INSERT INTO completion (id, entry_id, step_id, points, completed_at) "
    f"VALUES (1, 1, 1, 2, {T})",
    "INSERT INTO contest (id, brand_id, slug, title, description, status, starts_at, ends_at, "
    "timezone, alternates, rules_version, entry_chain_head, created_at) VALUES (2, 1, 'hecho', "
    f"'Hecho', '', 'drawn', {T}, {T}, 'UTC', 0, '1', 'x', {T})",
    "INSERT INTO draw (id, contest_id, frozen_at, list_digest, chain_head, frozen_list, "
    f"public_randomness, drawn_at, certificate) VALUES (1, 2, {T}, '{'d' * 64}', '{'e' * 64}', "
    """'[["Ab",3],["b_",1]]', '', """
    f"{T}, "
    """'{"format":"gymkana-draw/1","entries":[["Ab",3],["b_",1]],"order":["b_"]}')""",
    "INSERT INTO visit_report (id, nonce, entry_id, step_id, started_at, reported_at, page_url, "
    f"status, reason) VALUES (1, 'N1', 1, 1, {T}, '2026-01-01 10:00:09+00:00', "
    "'https://cafe.example/origen', 'verified', '')",
]


async def main(url: str) -> dict[str, Any]:
    await migrate(config=tortoise_config(url), target="models.0001_initial")
    await close()
    await Tortoise.init(config=tortoise_config(url))
    for statement in FIRST_RELEASE:
        await connections.get("default").execute_script(statement)
    await close()
    await migrate(config=tortoise_config(url))
    await close()
    await Tortoise.init(config=tortoise_config(url))
    from contests import dashboard, frozen
    from contests.models import Completion, Contest, Draw, Entry, Evidence, Step

    try:
        steps = {s.public_id: s.config for s in await Step.all()}
        evidence = [
            {"nonce": e.nonce, "status": e.status.value, "data": e.data}
            for e in await Evidence.all()
        ]
        completions = await Completion.all().count()
        entry_counts = {c.slug: c.entry_count for c in await Contest.all()}
        entry = await Entry.get(id=1)
        referral_code = entry.referral_code
        figures = await dashboard.figures(await Contest.get(id=1), now=entry.created_at)
        funnel = [stage.count for stage in figures.funnel]
        leaderboard = (await Contest.get(id=1)).referral_leaderboard
        try:
            await Entry.create(
                contest_id=1,
                participant_id=1,
                public_id="E2",
                consent_version="1",
                consented_at=entry.consented_at,
                chain_hash="h",
                created_at=entry.created_at,
            )
            one_entry_each = False
        except IntegrityError:
            one_entry_each = True
        draw = await Draw.get(id=1)
        listed = [line async for batch in frozen.batches(2) for line in batch]
        return {
            "listed": [list(row) for row in listed],
            "draw": {"listed": draw.listed, "certificate": draw.certificate},
            "steps": steps,
            "evidence": evidence,
            "completions": completions,
            "one_entry_each": one_entry_each,
            "entry_counts": entry_counts,
            "referral_code": referral_code,
            "leaderboard": leaderboard,
            "funnel": funnel,
        }
    finally:
        await close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
