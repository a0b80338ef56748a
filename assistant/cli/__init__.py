"""`bankassist` command line: one module per command group, each with a `register(sub)`.

serve, llm-serve, chat (`serve.py`); kb (`kb.py`); robots, robot-client (`robots.py`); audit (`audit.py`);
llm, models (`models.py`); staff, qa, sandbox, test, analytics live beside the code they drive.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from assistant import sandbox_cli, staff_cli
from assistant.analytics import cli as analytics_cli
from assistant.cli import audit, kb, models, robots, serve
from assistant.cli.serve import KEEP_ALIVE_S
from assistant.config import Settings
from assistant.dialogue import convtest
from assistant.logging_setup import configure_logging

__all__ = ["KEEP_ALIVE_S", "main"]


def _parser() -> argparse.ArgumentParser:
    from assistant.qa import cli as qa_cli

    parser = argparse.ArgumentParser(prog="bankassist", description="Offline banking assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in (serve.register, kb.register, staff_cli.register, qa_cli.register, robots.register,
                     audit.register, models.register_llm, models.register_models, sandbox_cli.register,
                     convtest.register, analytics_cli.register):
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:  # e.g. a placeholder secret in production: say which, without a traceback
        print("bankassist: bad configuration:\n" + "\n".join(f"  {e['msg']}" for e in exc.errors()), file=sys.stderr)
        return 2
    configure_logging(settings.server.log_level, settings.server.log_json)
    return args.func(settings, args)
