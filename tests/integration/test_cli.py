"""The `bankassist` console entry point, run the way a user runs it."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

BIN = Path(sys.executable).parent / "bankassist"


def run(args, tmp_path, stdin=None, extra_env=None):
    env = {**os.environ, "BANK_STORAGE__DATA_DIR": str(tmp_path / "data"), "BANK_LLM__MODEL": "smollm2-135m",
           "BANK_ANSWERING__MAX_NEW_TOKENS": "24", **(extra_env or {})}
    return subprocess.run([str(BIN), *args], input=stdin, capture_output=True, text=True, env=env, timeout=300)


def test_kb_build_reports_and_is_incremental(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("---\nid: prod-a\ntitle: A account\ncategory: accounts\n---\n## Fee\nThe A account fee is $3 a month.\n")
    (docs / "broken.md").write_text("---\ntitle: no id\n---\nbody text here")
    first = run(["kb", "build", str(docs)], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1 added" in first.stdout and "1 failed" in first.stdout and "broken.md" in first.stdout
    fresh = uuid.uuid4().hex  # new text, so the shared vector cache cannot already hold it
    (docs / "b.md").write_text(f"---\nid: prod-b\ntitle: B account\ncategory: accounts\n---\n## Fee\nThe B account ({fresh}) fee is $4 a month.\n")
    second = run(["kb", "build", str(docs)], tmp_path)
    assert "1 added, 0 updated, 1 unchanged" in second.stdout and "(1 embedded)" in second.stdout
    again = run(["kb", "build", "--if-missing"], tmp_path)
    assert "present" in again.stdout


def test_interactive_chat(tmp_path):
    out = run(["chat"], tmp_path, stdin="What is the fee for an outgoing domestic wire?\n\n")
    assert out.returncode == 0, out.stderr
    assert "assistant>" in out.stdout and "[1]" in out.stdout
