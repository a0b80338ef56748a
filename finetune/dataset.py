"""Read a dataset split (JSONL written by finetune.build_dataset) and tokenize it for training."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("id", "kind", "messages", "passages", "key_figures", "gold", "refuse")
ROLES = ("system", "user", "assistant")


class DatasetError(ValueError):
    """A dataset file that is missing, unreadable or malformed; raised before training starts."""


def load_split(path: Path) -> list[dict]:
    if not path.exists():
        raise DatasetError(f"dataset file {path} not found; build it with `python -m finetune.build_dataset --out {path.parent}`")
    records: list[dict] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"dataset file {path} cannot be read: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{n}: not valid JSON ({exc.msg}); the file is corrupt, rebuild it") from exc
        _check(rec, f"{path}:{n}")
        records.append(rec)
    if not records:
        raise DatasetError(f"dataset file {path} holds no examples")
    return records


def _check(rec, where: str) -> None:
    if not isinstance(rec, dict):
        raise DatasetError(f"{where}: an example must be a JSON object")
    missing = [k for k in REQUIRED if k not in rec]
    if missing:
        raise DatasetError(f"{where}: example lacks {', '.join(missing)}")
    msgs = rec["messages"]
    if not isinstance(msgs, list) or len(msgs) < 2:
        raise DatasetError(f"{where}: 'messages' must list at least a user and an assistant message")
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise DatasetError(f"{where}: each message needs a role in {ROLES} and text content")
    if msgs[-1]["role"] != "assistant":
        raise DatasetError(f"{where}: the last message must be the assistant's reference answer")


@dataclass
class Tokenized:
    input_ids: list[int]
    labels: list[int]  # -100 outside the assistant's replies

    @property
    def n_target(self) -> int:
        return sum(1 for t in self.labels if t != -100)


def _render(tokenizer, messages: list[dict], generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, tokenize=True, return_dict=True)
    return list(out["input_ids"])


def tokenize_example(tokenizer, messages: list[dict], end_ids: set[int]) -> Tokenized:
    """Chat-template the conversation; learn only the assistant's words and its end token."""
    ids: list[int] = []
    labels: list[int] = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prompt = _render(tokenizer, messages[:i], True)
        full = _render(tokenizer, messages[: i + 1], False)
        if full[: len(prompt)] != prompt or prompt[: len(ids)] != ids:
            raise DatasetError("the chat template does not render conversations as growing prefixes")
        reply = full[len(prompt):]
        stop = next((k for k, t in enumerate(reply) if t in end_ids), len(reply) - 1)
        labels += [-100] * (len(prompt) - len(ids)) + reply[: stop + 1] + [-100] * (len(reply) - stop - 1)
        ids = full
    return Tokenized(ids, labels)


def end_token_ids(tokenizer) -> set[int]:
    ends = {tokenizer.eos_token_id}
    for tok in ("<|im_end|>", "<|eot_id|>", "<|end|>"):
        tid = tokenizer.convert_tokens_to_ids(tok)
        if isinstance(tid, int) and tid != tokenizer.unk_token_id:
            ends.add(tid)
    return {t for t in ends if t is not None}
