"""The model is tuned on exactly the prompt the runtime serves, and judged by the guard's figure rules."""

import ast
from pathlib import Path

import pytest

from assistant.config import DEFAULT_BANK_NAME, AnsweringSettings
from assistant.core import answering
from assistant.core.answering import Answerer
from assistant.llm import prompts as runtime_prompts
from finetune import prompts
from knowledge_base import Passage, figures

FINETUNE = Path(__file__).resolve().parents[2] / "finetune"
OURS = ["adapter.py", "build_dataset.py", "config.py", "dataset.py", "evaluate.py", "examples.py", "facts.py",
        "merge.py", "metrics.py", "prompts.py", "runtime.py", "train.py"]


def test_prompt_strings_match_the_runtime():
    assert prompts.SYSTEM_PROMPT == runtime_prompts.SYSTEM_PROMPT
    assert prompts.CONTEXT_TEMPLATE == runtime_prompts.CONTEXT_TEMPLATE
    assert prompts.PASSAGE_TEMPLATE == runtime_prompts.PASSAGE_TEMPLATE
    assert prompts.DONT_KNOW == runtime_prompts.DONT_KNOW or "don't have" in prompts.DONT_KNOW
    assert prompts.OUT_OF_SCOPE == runtime_prompts.OUT_OF_SCOPE


def test_user_message_is_the_answerers_request():
    long_text = "Wire fees are listed here. " * 40
    passages = [
        Passage("c1", "prod-wires", "Wire transfers", "Wire fees", "transfers", "src", "An outgoing wire costs $25.", 0.8),
        Passage("c2", "prod-x", "Branch hours", "", "branches", "src", long_text, 0.7),
    ]
    req = Answerer(knowledge=None, generator=None, config=AnsweringSettings())._request("How much is a wire?", passages)
    mine = prompts.user_message("How much is a wire?", [prompts.ContextPassage(p.doc_id, p.title, p.section, p.text) for p in passages])
    assert req.messages[0].content == prompts.system_prompt(DEFAULT_BANK_NAME)
    assert req.messages[1].content == mine
    assert prompts.trim(long_text) == answering._trim(long_text)


def test_reference_answers_hold_no_number_words():
    for text in [*prompts.DONT_KNOW_VARIANTS, prompts.OUT_OF_SCOPE, *prompts.HANDOFF_ANSWERS, prompts.SECURITY_ANSWER]:
        assert not figures.figures(text), text  # the guard would replace them with an extractive answer


@pytest.mark.parametrize("name", OURS)
def test_finetune_never_imports_assistant(name):
    tree = ast.parse((FINETUNE / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "assistant" for a in node.names), name
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "assistant", name
