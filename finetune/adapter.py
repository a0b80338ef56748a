"""The adapter's identity card and the check that it fits a base model, done before loading.

peft loads an adapter onto any model whose layer names match: an adapter trained on another
model of the same shape would load silently and produce garbage, and one of another shape
fails deep inside torch. `check_adapter` turns both into one clear error up front.
"""

from __future__ import annotations

import json
from pathlib import Path

CARD = "bankassist_adapter.json"
ARCH_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
             "intermediate_size", "vocab_size")


class AdapterError(ValueError):
    """An adapter directory that is missing, incomplete or made for another base model."""


def architecture(config) -> dict:
    get = config.get if isinstance(config, dict) else lambda k: getattr(config, k, None)
    return {k: get(k) for k in ARCH_KEYS}


def write_adapter_card(adapter_dir: Path, base_dir: Path, base_name: str, config) -> None:
    card = {"base_model": base_name, "base_model_dir": str(base_dir), "architecture": architecture(config)}
    (adapter_dir / CARD).write_text(json.dumps(card, indent=2))


def read_card(adapter_dir: Path) -> dict | None:
    path = adapter_dir / CARD
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise AdapterError(f"{path} is corrupt: {exc}") from exc


def _weights(adapter_dir: Path) -> Path:
    for name in ("adapter_model.safetensors", "adapter_model.bin"):
        if (adapter_dir / name).exists():
            return adapter_dir / name
    raise AdapterError(f"{adapter_dir} has no adapter_model.safetensors")


def check_adapter(adapter_dir: Path, base_config, model=None) -> dict:
    """Raise AdapterError unless the adapter was made for a base model of this architecture.

    With `model`, also compare every LoRA matrix's shape with the layer it attaches to.
    Returns the adapter's card (or {} for adapters made elsewhere).
    """
    adapter_dir = Path(adapter_dir)
    if not adapter_dir.is_dir():
        raise AdapterError(f"adapter directory {adapter_dir} does not exist")
    if not (adapter_dir / "adapter_config.json").exists():
        raise AdapterError(f"{adapter_dir} is not a peft adapter (no adapter_config.json)")
    weights = _weights(adapter_dir)
    card = read_card(adapter_dir) or {}
    want = card.get("architecture")
    if want:
        have = architecture(base_config)
        diff = {k: (want[k], have[k]) for k in ARCH_KEYS if want.get(k) is not None and want.get(k) != have.get(k)}
        if diff:
            detail = ", ".join(f"{k} {a} vs {b}" for k, (a, b) in diff.items())
            raise AdapterError(f"adapter {adapter_dir} was trained on {card.get('base_model')!r}, which does not "
                               f"match this base model ({detail})")
    if model is not None and weights.suffix == ".safetensors":
        _check_shapes(weights, model, adapter_dir)
    return card


def _check_shapes(weights: Path, model, adapter_dir: Path) -> None:
    import torch
    from safetensors import safe_open

    layers = {name: mod for name, mod in model.named_modules() if isinstance(mod, torch.nn.Linear)}
    try:
        fh = safe_open(str(weights), framework="pt")
    except Exception as exc:  # safetensors raises its own error types for a damaged header
        raise AdapterError(f"{weights} is unreadable: {exc}") from exc
    for key in fh.keys():  # noqa: SIM118  (safe_open is not iterable, it only has keys())
        if ".lora_A." not in key and ".lora_B." not in key:
            continue
        module = key.split(".lora_")[0].removeprefix("base_model.model.")
        layer = layers.get(module) or layers.get(module.removeprefix("model."))
        if layer is None:
            raise AdapterError(f"adapter {adapter_dir} targets {module}, which this base model does not have")
        shape = fh.get_slice(key).get_shape()
        ok = shape[1] == layer.in_features if ".lora_A." in key else shape[0] == layer.out_features
        if not ok:
            raise AdapterError(f"adapter {adapter_dir} does not match this base model: {key} has shape {shape}, "
                               f"the layer is {layer.in_features}->{layer.out_features}")
