"""The `gymkana` command as an operator runs it: clear messages instead of stack traces,
a first marketer created from the shell, and draw certificates checked offline."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from contests.draw import FrozenEntry, build_certificate, commitment
from contests.settings import Settings
from tests.conftest import ROOT
from tests.support.servers import free_port

SECRET = "cli-secret-" + "k" * 40
SEED = "5" * 64


def _environment(**values: str) -> dict[str, str]:
    """The machine's environment without any Gymkana setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env["PYTHONPATH"] = str(ROOT)
    env["QUEUE_NAME"] = "gymkana-cli-test"
    env.update(values)
    return env


def gymkana(
    *args: str, cwd: Path, timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the command in an empty folder, so no ``.env`` file is read."""
    return subprocess.run(
        [sys.executable, "-c", "from web.cli import main; main()", *args],
        cwd=cwd,
        env=_environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _certificate(path: Path) -> dict[str, object]:
    certificate = build_certificate(
        contest="ruta-del-cafe",
        seed_hex=SEED,
        seed_commitment=commitment(SEED),
        entries=[FrozenEntry("ana", 3), FrozenEntry("luis", 1), FrozenEntry("marta", 6)],
        chain_head="a" * 64,
        public_randomness="",
        winners=1,
        alternates=1,
        frozen_at=datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        drawn_at=datetime(2026, 5, 1, 10, 1, tzinfo=UTC),
    )
    path.write_text(json.dumps(certificate), encoding="utf-8")
    return certificate


def _rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def test_serve_without_a_secret_key_says_so(tmp_path: Path) -> None:
    result = gymkana("serve", cwd=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_names_a_half_configured_provider(tmp_path: Path) -> None:
    result = gymkana(
        "serve",
        cwd=tmp_path,
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite://{tmp_path / 'gymkana.sqlite3'}",
        GOOGLE_CLIENT_ID="only-the-id",
    )
    assert result.returncode != 0
    assert "GOOGLE_CLIENT_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_worker_names_an_unreachable_redis(tmp_path: Path) -> None:
    result = gymkana("worker", cwd=tmp_path, SECRET_KEY=SECRET, REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode != 0
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in result.stderr
    assert "Traceback" not in result.stderr


def test_create_marketer_creates_the_brand_and_says_where_to_sign_in(tmp_path: Path) -> None:
    database = tmp_path / "data" / "gymkana.sqlite3"
    result = gymkana(
        "create-marketer",
        "Marta@Cafe-Aurora.example",
        "--name",
        "Marta",
        "--brand-name",
        "Café Aurora",
        "--domain",
        "https://www.cafe-aurora.example/",
        cwd=tmp_path,
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite://{database}",
        BASE_URL="https://contests.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "https://contests.example.com/login" in result.stdout
    assert "cafe-aurora" in result.stdout
    [(brand_id, slug, domains, reply_to)] = _rows(
        database, "SELECT id, slug, site_domains, reply_to FROM brand"
    )
    assert slug == "cafe-aurora"
    assert json.loads(str(domains)) == ["www.cafe-aurora.example"]
    assert reply_to == "Marta@Cafe-Aurora.example"
    assert _rows(database, "SELECT brand_id, email, name, participant_id FROM marketer") == [
        (brand_id, "marta@cafe-aurora.example", "Marta", None)
    ]


def test_create_marketer_adds_to_an_existing_brand(tmp_path: Path) -> None:
    database = tmp_path / "gymkana.sqlite3"
    env = {"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite://{database}"}
    first = gymkana(
        "create-marketer",
        "ana@example.com",
        "--brand-name",
        "Aurora",
        cwd=tmp_path,
        timeout=30,
        **env,
    )
    assert first.returncode == 0, first.stderr
    second = gymkana(
        "create-marketer", "luis@example.com", "--brand", "aurora", cwd=tmp_path, timeout=30, **env
    )
    assert second.returncode == 0, second.stderr
    again = gymkana(
        "create-marketer", "luis@example.com", "--brand", "aurora", cwd=tmp_path, timeout=30, **env
    )
    assert again.returncode != 0
    assert "luis@example.com can already use this brand's console" in again.stderr
    assert "Traceback" not in again.stderr
    assert len(_rows(database, "SELECT id FROM brand")) == 1
    assert len(_rows(database, "SELECT id FROM marketer")) == 2


def test_create_marketer_without_a_brand_lists_the_choices(tmp_path: Path) -> None:
    result = gymkana(
        "create-marketer",
        "ana@example.com",
        cwd=tmp_path,
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite://{tmp_path / 'gymkana.sqlite3'}",
    )
    assert result.returncode != 0
    assert "--brand-name" in result.stderr and "Traceback" not in result.stderr


def test_create_marketer_with_a_bad_email_leaves_nothing_behind(tmp_path: Path) -> None:
    database = tmp_path / "gymkana.sqlite3"
    result = gymkana(
        "create-marketer",
        "not-an-email",
        "--brand-name",
        "Aurora",
        "--reply-to",
        "hello@aurora.example",
        cwd=tmp_path,
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite://{database}",
    )
    assert result.returncode != 0
    assert "does not look like an email address" in result.stderr
    assert _rows(database, "SELECT slug FROM brand") == []


def test_verify_accepts_a_genuine_certificate(tmp_path: Path) -> None:
    path = tmp_path / "draw.json"
    certificate = _certificate(path)
    result = gymkana("verify", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout
    order = certificate["order"]
    assert isinstance(order, list)
    assert f"winners {order[:1]}" in result.stdout


def test_verify_lists_what_is_wrong_with_a_tampered_certificate(tmp_path: Path) -> None:
    path = tmp_path / "draw.json"
    certificate = _certificate(path)
    certificate["entries"] = [["ana", 3], ["luis", 100], ["marta", 6]]
    path.write_text(json.dumps(certificate), encoding="utf-8")
    result = gymkana("verify", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "does NOT verify" in result.stdout
    assert "  - the list digest does not match the entries" in result.stdout


@pytest.mark.parametrize("content", ["[]", "not json at all", '{"format": "gymkana-draw/1"}'])
def test_verify_refuses_what_is_not_a_certificate(tmp_path: Path, content: str) -> None:
    path = tmp_path / "draw.json"
    path.write_text(content, encoding="utf-8")
    result = gymkana("verify", str(path), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "verified" not in result.stdout


def test_verify_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    result = gymkana("verify", str(missing), cwd=tmp_path)
    assert result.returncode != 0
    assert f"cannot read {missing}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_that_does_not_answer_is_a_503_not_a_crash(tmp_path: Path) -> None:
    port = free_port()
    env = _environment(
        SECRET_KEY=SECRET,
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/gone",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from web.cli import main; main()",
            "serve",
            "--no-migrate",
            "--port",
            str(port),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", headers={"Accept-Language": "en"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gymkana serve did not answer"
                time.sleep(0.1)
        assert page.status_code == 503
        assert "not available for a moment" in page.text
        health = httpx.get(f"http://127.0.0.1:{port}/healthz")
        assert health.status_code == 503
        assert health.json()["database"].startswith("error")
    finally:
        process.terminate()
        process.wait(timeout=15)
