"""Time zones as people pick them: IANA names, checked against the system's list."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from contests.errors import N_, InvalidInput


def check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            N_("“%(zone)s” is not a time zone (for example Europe/Madrid)."),
            "invalid_timezone",
            zone=zone,
        ) from None
    if zone not in available_timezones() and zone != "UTC":
        raise InvalidInput(
            N_("“%(zone)s” is not a time zone (for example Europe/Madrid)."),
            "invalid_timezone",
            zone=zone,
        )
    return zone


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    """Every zone a form offers, sorted, UTC first."""
    return ["UTC", *sorted(z for z in available_timezones() if "/" in z and z != "UTC")]
