"""The one place that reads the wall clock; services take ``now`` so tests can pin it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
