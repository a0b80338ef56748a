"""docs/banking77-routes.md names every BANKING77 intent once, and its flow rows match the flow files."""

import json
from pathlib import Path

from assistant.dialogue.flows import load_flows
from finetune.intent.data import EXTRA_INTENTS, TASK_INTENTS

ROOT = Path(__file__).resolve().parents[2]


def _rows() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in (ROOT / "docs/banking77-routes.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("intent", "---"):
            assert cells[0] not in rows, f"{cells[0]} is listed twice"
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def test_every_intent_is_routed_once_and_flow_rows_match_the_flows():
    labels = json.loads((ROOT / "assistant/nlu/artifacts/intent/config.json").read_text())["labels"]
    banking77 = set(labels) - set(EXTRA_INTENTS)
    rows = _rows()
    assert len(banking77) == 77 and set(rows) == banking77
    triggers = {i: f.name for f in load_flows().values() for i in f.triggers.intents}
    assert set(TASK_INTENTS) <= set(triggers)  # our own task labels ("check_balance") each start a flow
    assert {i for i, (route, _) in rows.items() if route == "flow"} == set(triggers) - set(TASK_INTENTS)
    for intent, (route, where) in rows.items():
        if route == "flow":
            assert where == triggers[intent], intent
