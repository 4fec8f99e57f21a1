"""Settings come from the environment; a wrong one stops the start with a message that
names the variable to fix."""

from __future__ import annotations

import pytest

from contests.errors import ConfigurationError
from contests.settings import DEMO_SECRET_KEY, Settings, load_settings

GOOD_SECRET = "s" * 48


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test sets: none of the machine's variables, no ``.env`` file."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def _load(**overrides: object) -> Settings:
    return load_settings(_env_file=None, **overrides)


def test_a_complete_environment_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgres://gymkana@db.internal:5432/gymkana")
    monkeypatch.setenv("BASE_URL", "https://contests.example.com/")
    settings = _load()
    assert settings.secret_key == GOOD_SECRET
    assert settings.base_url == "https://contests.example.com"
    assert settings.secure_cookies


def test_secret_key_is_required_outside_the_demo() -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY") as raised:
        _load()
    assert "required" in str(raised.value)


def test_a_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "too-short")
    with pytest.raises(ConfigurationError, match=r"SECRET_KEY.*at least 32 characters"):
        _load()


def test_the_demo_runs_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO", "true")
    settings = _load()
    assert settings.demo
    assert settings.secret_key == DEMO_SECRET_KEY


def test_the_demo_lets_several_people_sign_in_from_one_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    assert _load().sign_in_limit == "5/15 minutes"
    monkeypatch.setenv("DEMO", "true")
    assert _load().sign_in_limit == "60/15 minutes"
    monkeypatch.setenv("SIGN_IN_LIMIT", "3/minute")
    assert _load().sign_in_limit == "3/minute"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
        ("BASE_URL", "not a url"),
        ("BASE_URL", "ftp://contests.example.com"),
        ("SMTP_URL", "http://mail.example.com"),
        ("DEFAULT_LOCALE", "fr"),
        ("QUEUE_NAME", "two words"),
        ("PORT", "not-a-number"),
        ("SESSION_IDLE_MINUTES", "1"),
        ("DEMO", "perhaps"),
        ("TRUSTED_PROXIES", "balancer.internal"),
        ("TRUSTED_PROXIES", "10.0.0.5,10.0.0.300"),
    ],
)
def test_a_wrong_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        _load()
    assert str(raised.value).startswith(f"{variable}: ")


def test_every_wrong_value_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    monkeypatch.setenv("REDIS_URL", "http://x")
    with pytest.raises(ConfigurationError) as raised:
        _load()
    assert "DATABASE_URL" in str(raised.value) and "REDIS_URL" in str(raised.value)


def test_a_database_url_spelled_postgresql_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://gymkana@db.internal/gymkana")
    assert _load().database_url.startswith("postgresql://")


def test_trusted_proxies_are_a_list_of_addresses_and_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    assert _load().trusted_proxy_list == []
    monkeypatch.setenv("TRUSTED_PROXIES", " 10.0.0.5, 10.1.0.0/16 ,::1,")
    assert _load().trusted_proxy_list == ["10.0.0.5", "10.1.0.0/16", "::1"]
