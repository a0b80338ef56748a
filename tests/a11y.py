"""Accessibility check for browser tests: axe-core (vendored from npm, tests/vendor) run in the page."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.11.0.min.js"


def serious_violations(page) -> list[dict]:
    """axe-core's violations of impact serious or critical on a Playwright page (WCAG 2 A/AA rules)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
        .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    return [v for v in result if v["impact"] in ("serious", "critical")]
