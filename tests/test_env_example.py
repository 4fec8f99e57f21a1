"""`.env.example` documents every setting, with the default the code really uses."""

from __future__ import annotations

from pathlib import Path

from contests.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def _documented() -> dict[str, str]:
    values = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_every_setting_is_documented_in_env_example() -> None:
    names = {name.upper() for name in Settings.model_fields}
    missing = names - set(_documented())
    assert not missing, f"add these to .env.example: {sorted(missing)}"


def test_env_example_shows_the_real_defaults() -> None:
    documented = _documented()
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = documented[name.upper()]
        expected = str(default).lower() if isinstance(default, bool) else str(default)
        assert shown == expected, f"{name.upper()}: .env.example says {shown!r}, code {expected!r}"
