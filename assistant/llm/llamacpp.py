"""Local generation with llama.cpp (llama-cpp-python) on the GGUF weights, + an optional LoRA GGUF.

The same weights the transformers backend dequantizes, run quantized: on this CPU decode is
several times faster (see bench/llm_speed.py). Training stays on transformers + peft; the
adapter is converted to GGUF by `python -m finetune.export` (adapter.gguf beside the peft files).
llama.cpp reuses the KV cache of the longest common prefix with the previous prompt, so the
fixed system prompt is evaluated once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from assistant.llm.base import ChatMessage, GenerationRequest, ModelTurns, relay

if TYPE_CHECKING:
    from llama_cpp.llama_types import ChatCompletionRequestMessage, CreateChatCompletionStreamResponse

log = logging.getLogger(__name__)

ADAPTER_GGUF = "adapter.gguf"
END_MARKS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>")


def adapter_gguf(adapter: Path) -> Path:
    """The llama.cpp form of an adapter: a .gguf file, or adapter.gguf inside a peft adapter dir."""
    path = adapter / ADAPTER_GGUF if adapter.is_dir() else adapter
    if not path.is_file():
        raise FileNotFoundError(
            f"adapter {adapter} has no {ADAPTER_GGUF} for llama.cpp: convert it with "
            f"`python -m finetune.export --adapter {adapter} --out DIR`, or set BANK_LLM__BACKEND=local"
        )
    return path


class LlamaCppGenerator:
    """A GGUF chat model in llama.cpp; one generation at a time, streamed from a worker thread."""

    def __init__(
        self, gguf_path: Path, *, adapter_path: Path | None = None, threads: int = 1, batch_threads: int | None = None,
        context_tokens: int = 4096, timeout_s: float = 60.0, queue_timeout_s: float = 4.0, name: str | None = None,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise RuntimeError(
                "BANK_LLM__BACKEND=llamacpp needs the llama-cpp-python package (pip install llama-cpp-python; "
                "`make run` installs it), or set BANK_LLM__BACKEND=local"
            ) from exc
        t0 = time.perf_counter()
        lora = adapter_gguf(adapter_path) if adapter_path is not None else None
        lora_arch = _lora_architecture(lora) if lora is not None else None
        try:
            self.model = Llama(
                model_path=str(gguf_path), n_ctx=context_tokens, n_threads=threads,
                n_threads_batch=batch_threads or threads, lora_path=str(lora) if lora else None, verbose=False,
            )
        except (RuntimeError, ValueError) as exc:
            if lora is None:
                raise
            raise ValueError(f"adapter {lora} does not fit {gguf_path.name} (llama.cpp refused it): {exc}; "
                             "set BANK_LLM__ADAPTER_PATH to a matching adapter") from exc
        model_arch = self.model.metadata.get("general.architecture")
        if lora is not None and model_arch != lora_arch:  # llama.cpp itself applies a same-shaped adapter of another model
            self.model.close()
            raise ValueError(f"adapter {lora} is for architecture {lora_arch!r}, the model {gguf_path.name} is "
                             f"{model_arch!r}; set BANK_LLM__ADAPTER_PATH to a matching adapter")
        self.name = (name or gguf_path.stem) + (f"+{adapter_path.name}" if adapter_path is not None else "")
        self._timeout_s = timeout_s
        self._turns = ModelTurns(queue_timeout_s)
        log.info("loaded %s (llama.cpp) in %.1f s", self.name, time.perf_counter() - t0)

    def _pieces(self, request: GenerationRequest) -> Iterator[str]:
        # stream=True: llama.cpp returns a generator of chunks (its annotation is the union with the whole response)
        chunks = cast("Generator[CreateChatCompletionStreamResponse, None, None]", self.model.create_chat_completion(
            messages=_messages(request.messages),
            max_tokens=request.max_new_tokens, temperature=request.temperature, repeat_penalty=1.0, stream=True,
            stop=list(END_MARKS),  # the chat template's end marks, explicitly (llama.cpp also stops on end-of-generation tokens)
        ))
        try:
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if isinstance(piece, str) and piece:
                    yield piece
        finally:
            chunks.close()  # relay closes this generator when the consumer stops early: decoding stops at once

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        async with self._turns.turn():
            async for piece in relay(self._pieces(request), timeout_s=self._timeout_s, stop=threading.Event(),
                                     hold=self._turns.model_lock):
                yield piece

    def close(self) -> None:
        """Free the model once no decode runs on it (a worker may outlive its turn by a token)."""
        with self._turns.model_lock:
            self.model.close()


def _lora_architecture(lora: Path) -> str | None:
    """The architecture a LoRA GGUF was made for; anything but a LoRA adapter file is refused."""
    from gguf import GGUFReader

    fields = GGUFReader(str(lora)).fields

    def value(key: str):
        return fields[key].contents() if key in fields else None

    if value("general.type") != "adapter" or value("adapter.type") != "lora":
        raise ValueError(f"{lora} is not a LoRA adapter GGUF")
    return value("general.architecture")


def _messages(messages: Sequence[ChatMessage]) -> list[ChatCompletionRequestMessage]:
    out: list[ChatCompletionRequestMessage] = []
    for m in messages:
        if m.role == "system":
            out.append({"role": "system", "content": m.content})
        elif m.role == "user":
            out.append({"role": "user", "content": m.content})
        else:
            out.append({"role": "assistant", "content": m.content})
    return out
