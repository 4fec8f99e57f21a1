"""`.env.example` documents every setting, with the default the code really uses."""

from __future__ import annotations

from contests.settings import Settings
from tests.support.env_example import documented


def test_every_setting_is_documented_in_env_example() -> None:
    names = {name.upper() for name in Settings.model_fields}
    missing = names - set(documented())
    assert not missing, f"add these to .env.example: {sorted(missing)}"


def test_env_example_shows_the_real_defaults() -> None:
    values = documented()
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = values[name.upper()]
        expected = str(default).lower() if isinstance(default, bool) else str(default)
        assert shown == expected, f"{name.upper()}: .env.example says {shown!r}, code {expected!r}"
