"""How long the fuzz tests run, and where they write their figures.

`make test` runs a short profile (each fuzz test's own default number of examples, well under
three minutes for all of them). BANK_FUZZ_EXAMPLES=N runs N examples per operation, scenario
set or socket instead (bench/fuzz.py: a long run). BANK_FUZZ_REPORT=path appends one JSON line
per test with its figures (operations, examples, server errors, hung connections).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky


def examples(default: int) -> int:
    """BANK_FUZZ_EXAMPLES when set (e.g. 500 for a long run), else `default`."""
    value = os.environ.get("BANK_FUZZ_EXAMPLES", "").strip()
    return int(value) if value else default


def report(test: str, **figures) -> None:
    path = os.environ.get("BANK_FUZZ_REPORT", "").strip()
    if path:
        with Path(path).open("a") as f:
            f.write(json.dumps({"test": test, **figures}) + "\n")


def run_scenarios(machine, scenarios: int, *, steps: int = 8, max_restarts: int = 20) -> dict[str, int]:
    """Run a schemathesis state machine until `scenarios` scenarios have run.

    The API's state outlives a scenario (a conversation created earlier changes what a later call
    answers), so Hypothesis can see a replayed prefix take another branch and stop with Flaky;
    like schemathesis' own runner, start again with a new seed. `machine` counts its scenarios in
    `machine.scenarios` (a one-item list) from its teardown."""
    restarts = 0
    while machine.scenarios[0] < scenarios and restarts <= max_restarts:
        try:
            machine.run(settings=settings(max_examples=scenarios - machine.scenarios[0], stateful_step_count=steps,
                                          deadline=None, database=None, suppress_health_check=list(HealthCheck),
                                          phases=[Phase.generate]))
        except Flaky:
            restarts += 1
    return {"scenarios": machine.scenarios[0], "restarts": restarts}
