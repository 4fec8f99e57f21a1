"""A viewer reads a contest in the console without forms their role may not send: no
edit, publish, close, prize, step or rules form; an editor sees them all."""

from __future__ import annotations

import re
from typing import Any

from contests import brands
from contests.clock import utcnow
from contests.models import Brand, Contest, MarketerRole
from tests.conftest import Mailbox
from tests.factories import (
    brand_and_marketer_address,
    draft_contest,
    email,
    live_contest,
    marketer_console,
    page_text,
)


def _path(brand: Brand, contest: Contest) -> str:
    return f"/console/{brand.slug}/contests/{contest.id}"


def _posts(html: str) -> set[str]:
    """What the page's forms that change the contest do, named by the last part of
    where they post (a prize's or a step's own address reads "words"). Signing out
    is on every page and changes no contest."""
    actions = re.findall(r'<form method="post" action="/console/[^"]*/([a-z_0-9]+)"', html)
    return {"words" if action.isdigit() else action for action in actions}


async def _member(brand: Brand, role: MarketerRole) -> str:
    address = email(role.value)
    await brands.add_marketer(brand, address, role=role, actor="test", now=utcnow())
    return address


async def test_a_viewer_sees_no_form_that_would_change_a_contest(
    app: Any, worker: Any, mailbox: Mailbox
) -> None:
    brand, _ = await brand_and_marketer_address()
    draft = await draft_contest(brand)
    live = await live_contest(brand)
    editor, viewer = (
        await _member(brand, MarketerRole.EDITOR),
        await _member(brand, MarketerRole.VIEWER),
    )
    seen: dict[str, dict[str, str]] = {}
    for who, address in (("editor", editor), ("viewer", viewer)):
        async with marketer_console(app, mailbox, address) as console:
            seen[who] = {
                name: page_text(await console.get(path))
                for name, path in (
                    ("draft", _path(brand, draft)),
                    ("live", _path(brand, live)),
                    ("draft_settings", _path(brand, draft) + "/edit"),
                    ("draft_rules", _path(brand, draft) + "/rules"),
                )
            }

    # The editor's pages hold the forms the viewer's must not.
    assert {"duplicate", "prizes", "steps", "end", "leaderboard"} <= _posts(seen["editor"]["draft"])
    assert {"close", "settings", "words", "end"} <= _posts(seen["editor"]["live"])
    assert _posts(seen["editor"]["draft_settings"]) == {"edit"}
    assert _posts(seen["editor"]["draft_rules"]) == {"rules"}
    assert 'data-testid="read-only"' not in seen["editor"]["draft"]

    for name, html in seen["viewer"].items():
        assert _posts(html) == set(), (name, _posts(html))
    # What the viewer may read is still there, and they are told why the rest is not.
    assert 'data-testid="read-only"' in seen["viewer"]["draft"]
    assert "an editor or an owner of the brand changes it" in seen["viewer"]["draft_settings"]
    assert 'data-testid="read-only-settings"' in seen["viewer"]["draft_settings"]
    assert "See its settings" in seen["viewer"]["live"]
    assert "Find the code" in seen["viewer"]["live"]
    assert "Coffee for a year" in seen["viewer"]["live"]
    assert 'data-testid="entrants-link"' in seen["viewer"]["live"]
