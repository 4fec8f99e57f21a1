"""Every action the code base writes to the audit log has a name the console translates:
read from the source itself, so an action added without its name fails here."""

from __future__ import annotations

import ast
from pathlib import Path

from contests import audit
from contests.i18n import translate

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("contests", "web", "workers", "oauth")
# The functions that write a row of the log: ``audit.record(action=...)`` and
# ``authoring.changed(contest, action, ...)``.
WRITERS = {"record": None, "changed": 1}


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _constants(tree: ast.Module) -> dict[str, str]:
    """A module's top-level names bound to a string: ``ACTION = "install.checked"``."""
    found: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _codes(expression: ast.expr, constants: dict[str, str]) -> set[str]:
    """The action codes an expression can be: a literal, a module constant, or either
    side of ``"a" if shown else "b"``."""
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.Name) and expression.id in constants:
        return {constants[expression.id]}
    if isinstance(expression, ast.IfExp):
        return _codes(expression.body, constants) | _codes(expression.orelse, constants)
    return set()


def used_actions() -> dict[str, str]:
    """Every action code written anywhere, with where it is written."""
    used: dict[str, str] = {}
    for package in PACKAGES:
        for source in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(source.read_text(encoding="utf-8"))
            constants = _constants(tree)
            # A writer that hands its own ``action`` on to ``audit.record`` writes
            # whatever its callers name, and they are read where they call it.
            forwarding = {
                id(call)
                for function in ast.walk(tree)
                if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
                and function.name in WRITERS
                for call in ast.walk(function)
            }
            for node in ast.walk(tree):
                if (
                    not isinstance(node, ast.Call)
                    or _called(node) not in WRITERS
                    or id(node) in forwarding
                ):
                    continue
                position = WRITERS[_called(node)]
                given = [k.value for k in node.keywords if k.arg == "action"]
                if position is not None and len(node.args) > position:
                    given.append(node.args[position])
                where = f"{source.relative_to(ROOT)}:{node.lineno}"
                for expression in given:
                    codes = _codes(expression, constants)
                    # An action this test cannot read would slip past it: say so.
                    assert codes, f"{where}: write the action as a literal or a constant"
                    used.update(dict.fromkeys(codes, where))
    return used


def test_the_source_is_read_for_the_actions_it_writes() -> None:
    used = used_actions()
    # Written three ways: a literal, a module constant, a choice between two.
    assert {"contest.published", "install.checked", "answer.shown", "answer.hidden"} <= set(used)
    assert "rules.saved" in used  # through ``authoring.changed``
    assert len(used) > 30


def test_every_action_in_the_code_base_has_a_name_in_both_languages() -> None:
    used = used_actions()
    unnamed = {code: where for code, where in used.items() if code not in audit.ACTIONS}
    assert not unnamed, f"give these actions a name in contests/audit.py ACTIONS: {unnamed}"
    for code in used:
        english, spanish = (
            translate(audit.ACTIONS[code], "en"),
            translate(audit.ACTIONS[code], "es"),
        )
        assert english == audit.ACTIONS[code]
        assert spanish and spanish != english, f"{code} has no Spanish name"
