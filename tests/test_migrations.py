"""Migrations carry a first release's data over, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, ROOT, _create_postgres_database, _drop_postgres_database


@pytest.fixture(params=BACKENDS)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'first-release.sqlite3'}"
        return
    url, name = await _create_postgres_database()
    yield url
    await _drop_postgres_database(name)


def test_a_first_release_keeps_its_data_through_every_migration(
    empty_database: str,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.migration_data", empty_database],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout.strip().splitlines()[-1])
    assert after["steps"] == {
        "S1": {"target_url": "https://cafe.example/origen", "dwell_seconds": 7},
        "S2": {"code_hash": "c" * 64},
    }
    [evidence] = after["evidence"]
    assert evidence["nonce"] == "N1" and evidence["status"] == "verified"
    assert evidence["data"]["page_url"] == "https://cafe.example/origen"
    assert evidence["data"]["started_at"].startswith("2026-01-01")
    # Rebuilding a table on SQLite would have cascaded into these, or dropped the index.
    assert after["completions"] == 1
    assert after["one_entry_each"] is True
    # The frozen list becomes runs of lines, and the stored certificate stops repeating it.
    assert after["listed"] == [["Ab", 3], ["b_", 1]]
    assert after["draw"] == {
        "listed": 2,
        "certificate": {"format": "gymkana-draw/1", "order": ["b_"]},
    }
    # The contest page's count of participants starts from the entries already there.
    assert after["entry_counts"] == {"ruta": 1, "hecho": 0}
    # The dashboard's running counts start from the entries and completions already there.
    assert after["funnel"] == [1, 1, 0, 0]
    # Entries made before referrals get a random code of their own; leaderboards are off.
    assert re.fullmatch(r"[0-9a-f]{24}|[0-9a-f]{32}", after["referral_code"])
    assert after["leaderboard"] is False
