"""Every route has a name, and the pages reach the app's own addresses through it: a path
changes in one route list, never in a template."""

from __future__ import annotations

import ast
import importlib
import re
import secrets
from collections import Counter
from pathlib import Path

from jinja2 import nodes
from starlette.applications import Starlette
from starlette.routing import Route

from contests import authoring
from contests.clock import utcnow
from contests.models import Prize, Step
from contests.settings import load_settings
from contests.templating import environment
from tests.conftest import ROOT, Mailbox
from tests.factories import (
    added_step,
    brand_with_marketer,
    browser,
    draft_contest,
    live_contest,
    sign_in,
)
from web.app import create_app

TEMPLATES = ROOT / "templates"
# Emails are rendered outside a request, by the worker: they name full addresses instead.
PAGE_TEMPLATES = [
    TEMPLATES / "base.html",
    TEMPLATES / "error.html",
    *sorted(TEMPLATES.glob("participant/**/*.html")),
    *sorted(TEMPLATES.glob("console/**/*.html")),
    *sorted(TEMPLATES.glob("demo/**/*.html")),
]
HAND_WRITTEN_PATH = re.compile(r'\b(?:href|action|src)="/')
ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def _app() -> Starlette:
    """The app as `gymkana serve` builds it; its routes need no database or Redis."""
    settings = load_settings(_env_file=None, secret_key=secrets.token_urlsafe(32))
    return create_app(settings, manage_database=False, environ={})


def test_page_templates_write_no_path_of_the_app_by_hand() -> None:
    assert len(PAGE_TEMPLATES) > 10, "the page templates moved: point this test at them"
    by_hand = [
        f"{template.relative_to(ROOT)}:{number}: {line.strip()}"
        for template in PAGE_TEMPLATES
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1)
        if HAND_WRITTEN_PATH.search(line)
    ]
    assert by_hand == [], "use url_for(name, ...) instead:\n" + "\n".join(by_hand)


def test_each_url_for_in_a_page_names_a_route_with_its_parameters() -> None:
    routes = {getattr(route, "name", None): route for route in _app().routes}
    wrong = []
    for template in PAGE_TEMPLATES:
        tree = environment().parse(template.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not (isinstance(call.node, nodes.Name) and call.node.name == "url_for"):
                continue
            [name] = call.args
            assert isinstance(name, nodes.Const)
            route = routes.get(name.value)
            given = {keyword.key for keyword in call.kwargs}
            if route is None or given != set(getattr(route, "param_convertors", {})):
                wrong.append(f"{template.relative_to(ROOT)}:{call.lineno}: {name.value} {given}")
    assert wrong == [], "no such route, or not these parameters:\n" + "\n".join(wrong)


def test_every_route_is_named_where_it_is_declared() -> None:
    # Starlette names an unnamed Route after its function: only the source shows a name
    # nobody chose, which a rename of the function would silently change.
    app = _app()
    modules = {create_app.__module__} | {
        route.endpoint.__module__ for route in app.routes if isinstance(route, Route)
    }
    unnamed = []
    for module in sorted(modules):
        source = importlib.import_module(module).__file__
        assert source is not None
        tree = ast.parse(Path(source).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.id if isinstance(node.func, ast.Name) else None
            if called in {"Route", "Mount"} and "name" not in {k.arg for k in node.keywords}:
                unnamed.append(f"{module}:{node.lineno}")
    assert unnamed == [], "give these routes a name=: " + ", ".join(unnamed)


def test_each_route_has_a_name_of_its_own() -> None:
    names = Counter(getattr(route, "name", None) for route in _app().routes)
    assert None not in names
    assert [name for name, count in names.items() if count > 1] == []


async def test_the_console_contest_page_posts_each_form_to_its_own_address(
    app: Starlette, worker: object, mailbox: Mailbox
) -> None:
    brand, marketer = await brand_with_marketer()
    draft = await draft_contest(brand)
    draft_steps = [(await added_step(draft, "share", {})).id for _ in range(2)]
    draft_prize = await authoring.add_prize(
        draft, name="A mug", description="", quantity=1, actor="test", now=utcnow()
    )
    live = await live_contest(brand)
    steps = await Step.filter(contest=live).values_list("id", flat=True)
    prizes = await Prize.filter(contest=live).values_list("id", flat=True)
    draft_path = f"/console/{brand.slug}/contests/{draft.id}"
    live_path = f"/console/{brand.slug}/contests/{live.id}"

    async with browser(app, language="en") as visitor:
        await sign_in(visitor, mailbox, marketer.email)
        draft_page = (await visitor.get(draft_path)).text
        live_page = (await visitor.get(live_path)).text

    assert set(ACTION.findall(draft_page)) == {
        "/logout",
        f"{draft_path}/publish",
        f"{draft_path}/duplicate",
        *(f"{draft_path}/prizes/{draft_prize.id}{action}" for action in ("", "/delete")),
        f"{draft_path}/end",
        f"{draft_path}/prizes",
        f"{draft_path}/steps",
        f"{draft_path}/leaderboard",
        *(
            f"{draft_path}/steps/{step}{action}"
            for step in draft_steps
            for action in ("", "/settings", "/delete", "/move")
        ),
    }
    assert set(ACTION.findall(live_page)) == {
        "/logout",
        f"{live_path}/close",
        f"{live_path}/duplicate",
        *(f"{live_path}/prizes/{prize}" for prize in prizes),
        f"{live_path}/end",
        f"{live_path}/steps",
        f"{live_path}/leaderboard",
        *(f"{live_path}/steps/{step}{action}" for step in steps for action in ("", "/settings")),
    }
