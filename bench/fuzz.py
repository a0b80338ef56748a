"""A long fuzz run of every HTTP operation (schemathesis, stateless and stateful, main API and sandbox
bank) and every websocket (tests/wsfuzz_*.py), then its figures.

    .venv/bin/python bench/fuzz.py [--examples 200] [--json out.json]

It runs the fuzz tests (the same ones `make test` runs with a short budget) with
BANK_FUZZ_EXAMPLES=N: N examples per operation and mode (stateless), N scenarios of 8 steps
(stateful), N scripts per socket. Figures: operations covered, examples and steps run, server
errors, hung connections, from the JSON lines the tests write (BANK_FUZZ_REPORT).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.config import child_environment  # noqa: E402

TESTS = ["tests/integration/test_banking_fuzz.py", "tests/integration/test_fuzz_api.py", "tests/integration/test_fuzz_ws.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="examples per operation / scenarios / scripts per socket")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fuzz.jsonl"
        env = child_environment(BANK_FUZZ_EXAMPLES=str(args.examples), BANK_FUZZ_REPORT=str(out))
        t0 = time.monotonic()
        rc = subprocess.call([sys.executable, "-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider", "-o", "timeout=0"],
                             cwd=ROOT, env=env)
        elapsed = time.monotonic() - t0
        rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    figures = {"examples_setting": args.examples, "pytest_exit": rc, "wall_s": round(elapsed, 1), "tests": rows,
               "server_errors": sum(r.get("server_errors", 0) for r in rows),
               "hung_connections": sum(r.get("hung", 0) for r in rows)}
    for r in rows:
        print(json.dumps(r))
    print(f"total: server errors {figures['server_errors']}, hung connections {figures['hung_connections']}, "
          f"pytest exit {rc}, {elapsed:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return rc


if __name__ == "__main__":
    sys.exit(main())
