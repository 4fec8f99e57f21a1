"""A brand's team in the console: owners invite with a role, change roles and remove
members, never the last owner; every change is in the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from contests import brands
from contests.clock import utcnow
from contests.errors import Conflict
from contests.models import AuditLog, Brand, Marketer, MarketerRole
from tests.conftest import Mailbox
from tests.factories import (
    after_redirect,
    brand_and_marketer_address,
    csrf,
    email,
    marketer_console,
    page_text,
)


async def _member(brand: Brand, role: MarketerRole) -> tuple[Marketer, str]:
    address = email(role.value)
    member = await brands.add_marketer(brand, address, role=role, actor="test", now=utcnow())
    return member, address


async def test_an_owner_invites_with_a_role_changes_it_and_removes_the_member(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    colleague = email("colleague")
    async with marketer_console(app, mailbox, address) as console:
        home = f"/console/{brand.slug}"
        token = await csrf(console, home)
        invited = await console.post(
            f"{home}/team",
            data={"csrf_token": token, "email": colleague, "name": "Vera", "role": "viewer"},
        )
        assert "is invited" in await after_redirect(console, invited)
        member = await Marketer.get(brand=brand, email=colleague)
        assert member.role.value == "viewer"

        changed = await console.post(
            f"{home}/team/{member.id}/role", data={"csrf_token": token, "role": "editor"}
        )
        assert "role is changed" in await after_redirect(console, changed)
        await member.refresh_from_db()
        assert member.role is MarketerRole.EDITOR

        bad = await console.post(
            f"{home}/team/{member.id}/role", data={"csrf_token": token, "role": "admin"}
        )
        assert "Choose a role: owner, editor or viewer." in await after_redirect(console, bad)

        removed = await console.post(f"{home}/team/{member.id}/remove", data={"csrf_token": token})
        assert f"{colleague} is no longer on the team." in await after_redirect(console, removed)
    assert not await Marketer.filter(id=member.id).exists()
    logged = await AuditLog.filter(brand=brand, target=colleague).order_by("id")
    actions = [item.action for item in logged]
    assert actions == ["marketer.added", "marketer.role", "marketer.removed"]


async def test_the_last_owner_can_be_neither_demoted_nor_removed(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    owner = await Marketer.get(brand=brand, email=address)
    async with marketer_console(app, mailbox, address) as console:
        home = f"/console/{brand.slug}"
        token = await csrf(console, home)
        demoted = await console.post(
            f"{home}/team/{owner.id}/role", data={"csrf_token": token, "role": "viewer"}
        )
        assert "the brand's last owner" in await after_redirect(console, demoted)
        removed = await console.post(f"{home}/team/{owner.id}/remove", data={"csrf_token": token})
        assert "the brand's last owner" in await after_redirect(console, removed)
    await owner.refresh_from_db()
    assert owner.role is MarketerRole.OWNER
    # With a second owner, the first may step down.
    second, _ = await _member(brand, MarketerRole.OWNER)
    await brands.change_role(brand, owner.id, MarketerRole.EDITOR, actor="test", now=utcnow())
    with pytest.raises(Conflict):
        await brands.remove_marketer(brand, second.id, actor="test", now=utcnow())


async def test_write_controls_are_shown_only_to_roles_that_may_use_them(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_and_marketer_address()
    _, viewer = await _member(brand, MarketerRole.VIEWER)
    _, editor = await _member(brand, MarketerRole.EDITOR)
    seen: dict[str, str] = {}
    for address in (viewer, editor):
        async with marketer_console(app, mailbox, address) as console:
            seen[address] = page_text(await console.get(f"/console/{brand.slug}"))
    for text in seen.values():
        assert "Invite a colleague" not in text
        assert "Save domains" not in text
        assert "Change the role" not in text
        assert "Change the look" not in text
    assert "New contest" not in seen[viewer]
    assert "New contest" in seen[editor]


async def test_a_member_of_another_brand_cannot_be_changed_through_ones_own(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, address = await brand_and_marketer_address()
    theirs, _ = await brand_and_marketer_address()
    stranger = await Marketer.get(brand=theirs)
    async with marketer_console(app, mailbox, address) as console:
        home = f"/console/{brand.slug}"
        token = await csrf(console, home)
        response = await console.post(
            f"{home}/team/{stranger.id}/remove", data={"csrf_token": token}
        )
        assert "This person is not on the brand's team." in await after_redirect(console, response)
    assert await Marketer.filter(id=stranger.id).exists()
