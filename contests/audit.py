"""The audit log: who changed what, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contests import changes
from contests.models import AuditLog, Brand


async def record(
    *,
    actor: str,
    action: str,
    now: datetime,
    brand: Brand | None = None,
    target: str = "",
    **data: Any,
) -> None:
    await AuditLog.create(
        actor=actor, action=action, brand=brand, target=target, data=data, created_at=now
    )
    # Every change to a brand or a contest passes here: the pages this process keeps
    # for signed-out visitors must not outlive it.
    changes.changed()


async def recent(brand: Brand, limit: int = 100) -> list[AuditLog]:
    return await AuditLog.filter(brand=brand).order_by("-id").limit(limit)
