"""The LoRA training configuration (YAML), checked before anything heavy starts."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODELS_DIR = Path.home() / ".cache" / "bankassist" / "models" / "hf"


def offline_environment() -> None:
    """No hub access: every model comes from a package or a local path. These are defaults the
    HF libraries read at import, so call this before importing them. (finetune/ does not import
    assistant/, whose settings module has its own copy of this.)"""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class ConfigError(ValueError):
    """A training configuration that cannot be run; raised before any model is loaded or trained."""


@dataclass
class LoraSettings:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class TrainConfig:
    base_model: str = "qwen2.5-coder-0.5b"  # a name under models_dir or a local HF model directory
    models_dir: str = str(DEFAULT_MODELS_DIR)
    dataset_dir: str = "var/finetune/dataset"
    output_dir: str = "var/finetune/runs/qwen05b-lora"
    seed: int = 13
    lora: LoraSettings = field(default_factory=LoraSettings)
    learning_rate: float = 2e-4
    epochs: float = 1.0
    max_steps: int | None = None  # optimizer steps; caps epochs
    max_train_examples: int | None = None  # a seeded subset of train.jsonl
    batch_size: int = 1  # examples per micro-step (padding wastes CPU time, so 1 on CPU)
    grad_accum: int = 4
    max_length: int = 512  # longer examples are dropped (never truncated: that cuts answers)
    warmup_steps: int = 4
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    dtype: str = "auto"  # auto (bf16 where the CPU/GPU supports it) | bfloat16 | float32
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 2  # torch CPU threads (the box is shared: 1-2)
    save_every: int = 10  # optimizer steps between checkpoints
    keep_checkpoints: int = 2
    eval_examples: int = 24  # validation examples scored at the end
    smoke: dict = field(default_factory=dict)  # overrides applied by --smoke

    def resolved_paths(self) -> tuple[Path, Path, Path]:
        def rel(p: str) -> Path:
            path = Path(p).expanduser()
            return path if path.is_absolute() else ROOT / path
        return rel(self.dataset_dir), rel(self.output_dir), rel(self.models_dir)

    def base_model_dir(self) -> Path:
        path = Path(self.base_model).expanduser()
        if path.is_dir():
            return path
        candidate = self.resolved_paths()[2] / self.base_model
        if (candidate / "config.json").exists():
            return candidate
        raise ConfigError(
            f"base model {self.base_model!r} not found as a directory or under {candidate.parent}; "
            f"convert it first with `bankassist models prepare --llm {self.base_model}`"
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _build(cls, data: dict, where: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)} in {where}; known: {', '.join(known)}")
    kwargs = {}
    for name, value in data.items():
        if name == "lora":
            if not isinstance(value, dict):
                raise ConfigError(f"'lora' in {where} must be a mapping")
            value = _build(LoraSettings, value, f"{where}: lora")
        kwargs[name] = value
    return cls(**kwargs)


def validate(cfg: TrainConfig) -> TrainConfig:
    mods = cfg.lora.target_modules
    if not isinstance(mods, list) or not mods or not all(isinstance(m, str) and m for m in mods):
        raise ConfigError("lora.target_modules must be a non-empty list of module names")
    checks = [
        (cfg.lora.r >= 1, "lora.r must be >= 1"), (cfg.lora.alpha > 0, "lora.alpha must be > 0"),
        (0 <= cfg.lora.dropout < 1, "lora.dropout must be in [0, 1)"),
        (cfg.learning_rate > 0, "learning_rate must be > 0"), (cfg.epochs > 0, "epochs must be > 0"),
        (cfg.batch_size >= 1 and cfg.grad_accum >= 1, "batch_size and grad_accum must be >= 1"),
        (64 <= cfg.max_length <= 8192, "max_length must be in [64, 8192]"),
        (cfg.dtype in ("auto", "bfloat16", "float32"), "dtype must be auto, bfloat16 or float32"),
        (cfg.device in ("auto", "cpu", "cuda"), "device must be auto, cpu or cuda"),
        (cfg.threads >= 1, "threads must be >= 1"), (cfg.save_every >= 1, "save_every must be >= 1"),
        (cfg.max_steps is None or cfg.max_steps >= 1, "max_steps must be >= 1 or null"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    return cfg


def load_config(path: Path, *, smoke: bool = False, overrides: dict | None = None) -> TrainConfig:
    if not path.exists():
        raise ConfigError(f"config file {path} not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of settings")
    cfg = _build(TrainConfig, data, str(path))
    if smoke:
        if not cfg.smoke:
            raise ConfigError(f"--smoke needs a 'smoke:' section in {path}")
        cfg = _build(TrainConfig, {**data, **cfg.smoke, "smoke": cfg.smoke}, f"{path} (smoke)")
    if overrides:
        cfg = _build(TrainConfig, {**cfg.to_dict(), **overrides}, f"{path} (overrides)")
    return validate(cfg)


def check_target_modules(model, targets: list[str]) -> None:
    """Every target must name a Linear layer of the model: a typo would silently tune nothing."""
    import torch

    linear = {name.rsplit(".", 1)[-1] for name, mod in model.named_modules() if isinstance(mod, torch.nn.Linear)}
    missing = [t for t in targets if t not in linear]
    if missing:
        raise ConfigError(
            f"lora.target_modules {missing} are not Linear layers of this model; "
            f"available: {', '.join(sorted(linear))}"
        )
