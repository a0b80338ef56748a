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


def examples(default: int) -> int:
    """BANK_FUZZ_EXAMPLES when set (e.g. 500 for a long run), else `default`."""
    value = os.environ.get("BANK_FUZZ_EXAMPLES", "").strip()
    return int(value) if value else default


def report(test: str, **figures) -> None:
    path = os.environ.get("BANK_FUZZ_REPORT", "").strip()
    if path:
        with Path(path).open("a") as f:
            f.write(json.dumps({"test": test, **figures}) + "\n")
