"""Every conversation test in tests/conversations/*.yaml, through POST /v1/chat with the real models,
the sandbox bank over HTTP and the flows as shipped (`bankassist test conversations` runs the same)."""

from pathlib import Path

import pytest

from assistant.dialogue.convtest import SandboxHelpers, load, run_conversation

FILES = sorted((Path(__file__).resolve().parents[1] / "conversations").glob("*.yaml"))
CASES = [(f, c) for f in FILES for c in load(f)]


def test_there_are_enough_conversation_tests():
    assert len(CASES) >= 60


@pytest.mark.parametrize(("path", "conv"), CASES, ids=[f"{f.stem}:{c.name}" for f, c in CASES])
def test_conversation(client, settings, path, conv):
    failures = run_conversation(client, SandboxHelpers(settings.banking.url), conv, path.name)
    assert not failures, "\n".join(map(str, failures))
