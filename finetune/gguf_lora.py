"""Convert a peft LoRA adapter into a llama.cpp LoRA GGUF (the llama.cpp serving backend loads it).

    python -m finetune.gguf_lora --adapter assistant/llm/adapters/qwen05b-bank-v1 [--out FILE]

The layout is llama.cpp's own (its convert_lora_to_gguf.py, which needs the llama.cpp sources
and the base model's HF files): `general.type=adapter`, `adapter.type=lora`,
`adapter.lora.alpha`, and for every adapted layer `<gguf tensor name>.lora_a` (r x in) and
`.lora_b` (out x r). Tensor names come from the gguf package's own name map for the
architecture; for llama-architecture models the rows of q/k's B matrices are permuted exactly
as the HF->GGUF conversion permutes those weights (rotary layout). Only what this needs is
written here; `tests/integration/test_llamacpp.py` checks the result against peft numerically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from finetune.adapter import AdapterError, read_card

_ARCHES = {"qwen2": "QWEN2", "llama": "LLAMA"}
_PEFT_PREFIX = "base_model.model."


def _permute_rows(w, n_head: int, n_head_kv: int | None):
    """llama.cpp's HF->GGUF permutation of q/k output rows (convert_hf_to_gguf LlamaModel.permute)."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def convert(adapter: Path, out: Path, *, dtype: str = "float16") -> Path:
    import gguf
    import numpy as np

    card = read_card(adapter)
    if card is None or not card.get("architecture"):
        raise AdapterError(f"{adapter} has no bankassist_adapter.json naming its base architecture")
    arch_cfg = card["architecture"]
    arch_name = _ARCHES.get(arch_cfg.get("model_type"))
    if arch_name is None:
        raise AdapterError(f"no GGUF LoRA conversion for model_type {arch_cfg.get('model_type')!r}; known: {sorted(_ARCHES)}")
    arch = getattr(gguf.MODEL_ARCH, arch_name)
    lcfg = json.loads((adapter / "adapter_config.json").read_text())
    if lcfg.get("use_rslora") or lcfg.get("use_dora"):
        raise AdapterError("rsLoRA/DoRA adapters are not supported by this converter")
    names = gguf.get_tensor_name_map(arch, int(arch_cfg["num_hidden_layers"]))
    weights = adapter / "adapter_model.safetensors"
    if not weights.exists():
        raise AdapterError(f"{adapter} has no adapter_model.safetensors")
    tensors = _load(weights)
    np_dtype = {"float16": np.float16, "float32": np.float32}[dtype]

    tmp = out.with_name(out.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(lcfg["lora_alpha"]))
    for key in sorted(tensors):
        if not key.endswith(".lora_A.weight"):
            continue
        layer = key[len(_PEFT_PREFIX):-len(".lora_A.weight")] if key.startswith(_PEFT_PREFIX) else key[:-len(".lora_A.weight")]
        a, b = tensors[key], tensors.get(key.replace(".lora_A.", ".lora_B."))
        if b is None:
            raise AdapterError(f"{weights}: {key} has no lora_B partner")
        dest = names.get_name(layer + ".weight", try_suffixes=(".weight",))
        if dest is None:
            raise AdapterError(f"{weights}: no GGUF tensor for layer {layer} in architecture {arch_name.lower()}")
        if arch_name == "LLAMA" and layer.endswith(("q_proj", "k_proj")):
            heads = int(arch_cfg["num_attention_heads"])
            b = _permute_rows(b, heads, heads if layer.endswith("q_proj") else arch_cfg.get("num_key_value_heads"))
        writer.add_tensor(dest + ".lora_a", np.ascontiguousarray(a, dtype=np_dtype))
        writer.add_tensor(dest + ".lora_b", np.ascontiguousarray(b, dtype=np_dtype))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return out


def _load(path: Path) -> dict:
    """float32 numpy arrays, whatever dtype the adapter was saved in (numpy has no bf16)."""
    import torch
    from safetensors.torch import load_file

    return {k: v.to(torch.float32).numpy() for k, v in load_file(str(path)).items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m finetune.gguf_lora", description="peft LoRA -> llama.cpp LoRA GGUF")
    ap.add_argument("--adapter", type=Path, required=True)
    ap.add_argument("--out", type=Path, help="default: adapter.gguf inside the adapter directory")
    ap.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    args = ap.parse_args(argv)
    try:
        path = convert(args.adapter, args.out or args.adapter / "adapter.gguf", dtype=args.dtype)
    except (AdapterError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
