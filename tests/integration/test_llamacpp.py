"""The llama.cpp backend (real SmolLM2 GGUF) and the peft -> LoRA GGUF conversion.

The conversion is checked numerically: a random LoRA on SmolLM2 (a llama-architecture model,
so q/k rows need llama.cpp's rotary permutation) must move llama.cpp's logits the way it moves
transformers + peft's logits on the same tokens.
"""

import asyncio
import json
import shutil

import numpy as np
import pytest

from assistant.assets import resolve_gguf, resolve_llm
from assistant.llm import ChatMessage, GenerationRequest
from assistant.llm.llamacpp import LlamaCppGenerator
from finetune.adapter import write_adapter_card
from finetune.gguf_lora import convert

PROMPT = "The customer asked about the monthly fee for the checking account, and the assistant said"


@pytest.fixture(scope="module")
def smol(settings):
    return resolve_llm("smollm2-135m", settings.models_cache), resolve_gguf("smollm2-135m", settings.models_cache)


@pytest.fixture(scope="module")
def random_adapter(smol, tmp_path_factory):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    hf_dir, _ = smol
    torch.manual_seed(7)
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    # init_lora_weights=False: A and B both random, so the adapter changes the output a lot
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, init_lora_weights=False,
                                                  target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.mul_(0.5)
    out = tmp_path_factory.mktemp("lora")
    peft_model.save_pretrained(out)
    write_adapter_card(out, hf_dir, "smollm2-135m", model.config)
    convert(out, out / "adapter.gguf")
    return out, peft_model


def _hf_logits(peft_model, ids):
    import torch

    with torch.no_grad():
        tuned = peft_model(torch.tensor([ids])).logits[0, -1].numpy()
        with peft_model.disable_adapter():
            base = peft_model(torch.tensor([ids])).logits[0, -1].numpy()
    return base, tuned


def _cpp_logits(gguf, ids, lora=None):
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=256, n_threads=1, logits_all=True, lora_path=str(lora) if lora else None,
                verbose=False)
    llm.eval(ids)
    return np.array(llm.scores[llm.n_tokens - 1])


def test_converted_lora_moves_llamacpp_like_peft(smol, random_adapter):
    from transformers import AutoTokenizer

    hf_dir, gguf = smol
    adapter, peft_model = random_adapter
    ids = AutoTokenizer.from_pretrained(hf_dir)(PROMPT)["input_ids"]
    hf_base, hf_tuned = _hf_logits(peft_model, ids)
    cpp_base = _cpp_logits(gguf, ids)
    cpp_tuned = _cpp_logits(gguf, ids, adapter / "adapter.gguf")
    assert np.corrcoef(hf_base, cpp_base)[0, 1] > 0.98  # same weights (Q4_1 in llama.cpp, dequantized in torch)
    hf_delta, cpp_delta = hf_tuned - hf_base, cpp_tuned - cpp_base
    assert np.linalg.norm(hf_delta) > 0.3 * np.linalg.norm(hf_base)  # the adapter really changes the output
    # measured: 0.98; with q/k rows left unpermuted 0.84, with no adapter at all 0
    assert np.corrcoef(hf_delta, cpp_delta)[0, 1] > 0.95, "the GGUF LoRA does not act like the peft one"


def test_lora_for_another_architecture_is_refused(smol, random_adapter, tmp_path):
    _, gguf = smol
    adapter, _ = random_adapter
    wrong = tmp_path / "wrong"
    shutil.copytree(adapter, wrong)
    card = json.loads((wrong / "bankassist_adapter.json").read_text())
    card["architecture"]["model_type"] = "qwen2"  # same layer names, another architecture
    (wrong / "bankassist_adapter.json").write_text(json.dumps(card))
    convert(wrong, wrong / "adapter.gguf")
    with pytest.raises(ValueError, match="architecture 'qwen2'.*'llama'"):
        LlamaCppGenerator(gguf, adapter_path=wrong)
    no_gguf = tmp_path / "peft-only"
    shutil.copytree(adapter, no_gguf, ignore=shutil.ignore_patterns("adapter.gguf"))
    with pytest.raises(FileNotFoundError, match="finetune.export"):
        LlamaCppGenerator(gguf, adapter_path=no_gguf)


def test_streams_stops_early_and_serves_the_next_turn(smol):
    _, gguf = smol
    gen = LlamaCppGenerator(gguf, timeout_s=60)
    request = GenerationRequest(messages=(ChatMessage("system", "You are a bank assistant."),
                                          ChatMessage("user", "Say hello to the customer.")), max_new_tokens=24)

    async def first_piece_then_stop():
        async for piece in gen.stream(request):
            return piece

    async def whole():
        return "".join([p async for p in gen.stream(request)])

    assert asyncio.run(first_piece_then_stop())
    text = asyncio.run(whole())
    assert text.strip() and "<|im_end|>" not in text
