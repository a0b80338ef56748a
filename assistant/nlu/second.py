"""The intent's second opinion for unsure messages: an MLP over [MiniLM, a second encoder's vector].

Trained by finetune/intent/second.py (the artefact's `config.json` "second" and `heads.npz` second_*); the
second encoder is the reranker's all-mpnet-base-v2 (docs/decisions/0020-intent-second-opinion.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SecondHeads:
    encoder: str  # the name of the encoder its vectors come from ("all-mpnet-base-v2")
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    below: float  # a calibrated top probability under this asks the second opinion
    temperature: float

    def hidden_logits(self, first: np.ndarray, second: np.ndarray, gelu) -> np.ndarray:
        """The MLP's logits over the two vectors side by side."""
        x = np.concatenate([first, np.asarray(second, dtype=np.float32).reshape(-1)])
        return gelu(x @ self.w1 + self.b1) @ self.w2 + self.b2


def load_second(artifact_dir: Path, arrays: dict) -> SecondHeads | None:
    """The second heads of an artefact, or None for one trained without them."""
    cfg = json.loads((Path(artifact_dir) / "config.json").read_text()).get("second")
    if not cfg or "second_w1" not in arrays:
        return None
    f32 = lambda k: arrays[k].astype(np.float32)  # noqa: E731  (float16 on disk)
    return SecondHeads(str(cfg["encoder"]), f32("second_w1"), f32("second_b1"), f32("second_w2"), f32("second_b2"),
                       float(cfg["below"]), float(cfg["temperature"]))
