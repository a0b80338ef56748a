"""Device/dtype choice and resumable checkpoints for the training loop."""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def cpu_supports_bf16() -> bool:
    """bf16 matmuls are fast on CPUs with AVX512-BF16 or AMX; elsewhere they are emulated and slow."""
    import torch

    try:
        cap = torch.backends.cpu.get_cpu_capability()
    except AttributeError:
        return False
    if cap in ("AVX512", "AMX") or "AVX512" in str(cap):
        try:
            flags = Path("/proc/cpuinfo").read_text()
        except OSError:
            return True
        return "avx512_bf16" in flags or "amx_bf16" in flags
    return False


def pick_device_dtype(device: str, dtype: str):
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda requested but no CUDA device is available")
    if dtype == "auto":
        ok = torch.cuda.is_bf16_supported() if device == "cuda" else cpu_supports_bf16()
        dtype = "bfloat16" if ok else "float32"
    return torch.device(device), getattr(torch, dtype)


class Checkpoints:
    """step-N folders holding the adapter weights, optimizer state, RNG states and progress."""

    def __init__(self, root: Path, keep: int = 2) -> None:
        self.root, self.keep = root, keep

    def _dirs(self) -> list[Path]:
        if not self.root.exists():
            return []
        found = [p for p in self.root.glob("step-*") if (p / "state.json").exists()]
        return sorted(found, key=lambda p: int(p.name.split("-")[1]))

    def save(self, step: int, model, optim, state: dict) -> Path:
        import torch
        from peft import get_peft_model_state_dict

        tmp = self.root / f".tmp-step-{step}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        torch.save(get_peft_model_state_dict(model), tmp / "adapter.pt")
        torch.save(optim.state_dict(), tmp / "optimizer.pt")
        torch.save({"torch": torch.get_rng_state(), "python": random.getstate()}, tmp / "rng.pt")
        (tmp / "state.json").write_text(json.dumps(state))  # written last: marks the checkpoint complete
        final = self.root / f"step-{step}"
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        for old in self._dirs()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        log.info("checkpoint %s", final)
        return final

    def latest_state(self) -> dict | None:
        dirs = self._dirs()
        if not dirs:
            return None
        state = json.loads((dirs[-1] / "state.json").read_text())
        state["path"] = str(dirs[-1])
        return state

    def restore(self, state: dict, model, optim) -> None:
        import torch
        from peft import set_peft_model_state_dict

        path = Path(state["path"])
        set_peft_model_state_dict(model, torch.load(path / "adapter.pt", weights_only=True))
        optim.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True))
        rng = torch.load(path / "rng.pt", weights_only=False)
        torch.set_rng_state(rng["torch"])
        random.setstate(rng["python"])
