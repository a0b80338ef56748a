"""Local generation with transformers (+ an optional peft LoRA adapter), streamed."""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.llm.base import GenerationError, GenerationRequest, ModelTurns, relay

if TYPE_CHECKING:
    import torch
    from transformers import DynamicCache, PreTrainedTokenizerBase

log = logging.getLogger(__name__)


class LocalLoraGenerator:
    """A causal LM from a local HF directory; generation runs in a worker thread.

    One generation at a time: on a small CPU box two concurrent decodes only slow each other.
    """

    def __init__(
        self, model_dir: Path, *, adapter_path: Path | None = None, threads: int = 1,
        dtype: str = "bfloat16", timeout_s: float = 60.0, queue_timeout_s: float = 4.0,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype))
        self.name = model_dir.name
        if adapter_path is not None:
            model = _attach_adapter(model, adapter_path)
            self.name += f"+{adapter_path.name}"
        model.eval()
        self.model = model
        self._timeout_s = timeout_s
        self._turns = ModelTurns(queue_timeout_s)
        end_ids = {self.tokenizer.eos_token_id}
        im_end = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(im_end, int) and im_end != self.tokenizer.unk_token_id:
            end_ids.add(im_end)  # stop on the chat template's end token explicitly
        self._prefix: tuple[str, torch.Tensor, DynamicCache] | None = None  # system text, its token ids, its KV cache
        self._eos = sorted(i for i in end_ids if i is not None)
        log.info("loaded %s in %.1f s", self.name, time.perf_counter() - t0)

    def _input_ids(self, request: GenerationRequest) -> torch.Tensor:
        msgs = [{"role": m.role, "content": m.content} for m in request.messages]
        return _chat_ids(self.tokenizer, msgs, generation_prompt=True)

    def _reusable_prefix(self, request: GenerationRequest, ids: torch.Tensor) -> DynamicCache | None:
        """A copy of the KV cache of the fixed system prompt when this prompt starts with it.

        Prefill dominates time to first token on CPU; the system prompt is the same every turn.
        """
        first = request.messages[0]
        if first.role != "system":
            return None
        if self._prefix is None or self._prefix[0] != first.content:
            from transformers import DynamicCache

            pre = _chat_ids(self.tokenizer, [{"role": "system", "content": first.content}], generation_prompt=False)
            cache = DynamicCache(config=self.model.config)
            with self._torch.inference_mode():
                self.model(pre, past_key_values=cache, use_cache=True)
            self._prefix = (first.content, pre, cache)
        _, pre, cache = self._prefix
        n = pre.shape[1]
        if ids.shape[1] <= n or not bool((ids[0, :n] == pre[0]).all()):
            return None
        return copy.deepcopy(cache)

    def close(self) -> None:
        with self._turns.model_lock:  # a decode still running in its worker thread finishes first
            pass  # torch frees the weights with the object

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = threading.Event()

        class _Cancel(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return stop.is_set()

        async with self._turns.turn():
            ids = self._input_ids(request)
            prefix = await asyncio.to_thread(self._reusable_prefix, request, ids)
            streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
            failure: list[BaseException] = []

            def work() -> None:
                try:
                    with self._turns.model_lock, self._torch.inference_mode():
                        self.model.generate(
                            ids, attention_mask=self._torch.ones_like(ids),
                            max_new_tokens=request.max_new_tokens, do_sample=False,
                            eos_token_id=self._eos, pad_token_id=self._eos[0],
                            streamer=streamer, stopping_criteria=StoppingCriteriaList([_Cancel()]),
                            past_key_values=prefix,
                        )
                except BaseException as exc:  # reported to the consumer, never lost
                    failure.append(exc)
                    streamer.end()

            worker = threading.Thread(target=work, daemon=True, name="llm-generate")
            worker.start()
            try:
                async for piece in relay(streamer, timeout_s=self._timeout_s, stop=stop):
                    yield piece
                if failure:
                    raise GenerationError(f"model error: {failure[0]!r}") from failure[0]
            finally:
                stop.set()  # consumer stopped early (guard, disconnect) or finished
                await asyncio.to_thread(worker.join)


def _chat_ids(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], *, generation_prompt: bool) -> torch.Tensor:
    """The chat template's token ids (1 x n)."""
    from transformers import BatchEncoding

    enc = tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt, return_tensors="pt",
                                        return_dict=True)
    if not isinstance(enc, BatchEncoding):
        raise TypeError(f"the chat template gave {type(enc).__name__}, not token ids")
    return enc["input_ids"]


def _attach_adapter(model, adapter_path: Path):
    from peft import PeftConfig, PeftModel

    if not (adapter_path / "adapter_config.json").exists():
        raise FileNotFoundError(f"no adapter_config.json in {adapter_path}")
    cfg = PeftConfig.from_pretrained(str(adapter_path))
    expected = getattr(model.config, "hidden_size", None)
    _check_adapter_card(model, adapter_path)
    try:
        return PeftModel.from_pretrained(model, str(adapter_path))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ValueError(
            f"adapter {adapter_path} (base {cfg.base_model_name_or_path}) does not match the "
            f"loaded base model (hidden size {expected}): {exc}"
        ) from exc


_ARCH_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
              "intermediate_size", "vocab_size")


def _check_adapter_card(model, adapter_path: Path) -> None:
    """Refuse, before peft touches the model, an adapter whose card names another architecture.

    Adapters from `python -m finetune.train` carry bankassist_adapter.json; one trained on a
    different model of the same layer shapes would otherwise load silently and answer badly.
    """
    import json

    card_path = adapter_path / "bankassist_adapter.json"
    if not card_path.exists():
        return
    try:
        want = json.loads(card_path.read_text()).get("architecture") or {}
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ValueError(f"adapter card {card_path} is corrupt: {exc}") from exc
    diff = [f"{k} {want[k]} vs {getattr(model.config, k, None)}" for k in _ARCH_KEYS
            if want.get(k) is not None and want[k] != getattr(model.config, k, None)]
    if diff:
        raise ValueError(f"adapter {adapter_path} does not match the loaded base model ({', '.join(diff)}); "
                         "set BANK_LLM__ADAPTER_PATH to a matching adapter, or BANK_LLM__USE_ADAPTER=false")
