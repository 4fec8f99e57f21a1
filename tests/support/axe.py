"""axe-core in a real browser tab: its violations of WCAG 2.1 A and AA (and axe's best
practices), written so that a failing test says what is wrong and where."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from tests.conftest import ROOT

AXE = ROOT / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_script() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run scripts/ensure-axe.sh")
    return AXE.read_text(encoding="utf-8")


def describe(violation: dict[str, Any]) -> str:
    lines = [f"- {violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"][:5]:
        summary = " ".join(str(node.get("failureSummary", "")).split())
        lines.append(f"    at {' '.join(map(str, node['target']))}: {summary}")
    if len(violation["nodes"]) > 5:
        lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


async def violations(page: Page, script: str, within: str | None = None) -> list[str]:
    """axe's violations on the page as it is now, or only within the element matching
    the CSS selector ``within`` (its shadow tree included). The tab must allow inline
    scripts (a context made with ``bypass_csp=True``)."""
    await page.add_script_tag(content=script)
    result = await page.evaluate(
        """([tags, within]) => axe.run(within ? {include: [[within]]} : document,
                                       {runOnly: {type: 'tag', values: tags}})""",
        [AXE_TAGS, within],
    )
    # A selector that matches nothing would pass every rule: make sure something was checked.
    assert result["passes"], f"axe checked nothing within {within or 'the page'}"
    return [describe(v) for v in result["violations"]]
