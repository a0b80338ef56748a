"""What settings name, resolved to files: the LLM (GGUF or converted), the encoders, the reranker.

Cache layout under `cache_dir` (BANK_STORAGE__CACHE_DIR/models), kept across clones and runs:
  gguf/<file>.gguf + gguf/<name>.verified.json    joined GGUF (llama.cpp serves it as is)
  hf/<name>/ + bankassist-converted.json          the GGUF dequantized to safetensors (transformers)
  st/<name>/ + .bankassist-unpacked.json          the reranker's sentence-transformers folder
  onnx/<sha256[:16] of the weights>/model.onnx, model.int8.onnx + export.json, int8.json
"""

from __future__ import annotations

import logging
import shutil
import time
import zipfile
from pathlib import Path
from typing import TypeVar

from assistant.assets.cache import MissingModelError, derive, fetch, file_sha256, read_marker, write_marker
from assistant.assets.registry import EMBEDDING_PACKAGES, LLM_REGISTRY, RERANK_REGISTRY, PackagedGGUF, package_dir

log = logging.getLogger(__name__)
T = TypeVar("T")


def _registered(name: str, registry: dict[str, T], what: str) -> T:
    spec = registry.get(name)
    if spec is None:
        raise MissingModelError(f"unknown {what} '{name}': use one of {sorted(registry)} or a local path")
    return spec


def resolve_gguf(name_or_path: str, cache_dir: Path) -> Path:
    """The verified GGUF file of a registry model (joined from its packages once), or a local .gguf."""
    local = Path(name_or_path).expanduser()
    if local.is_file() and local.suffix == ".gguf":
        return local
    spec = LLM_REGISTRY.get(name_or_path)
    if spec is None:
        raise MissingModelError(
            f"'{name_or_path}' is not a .gguf file or one of {sorted(LLM_REGISTRY)}: the llama.cpp backend "
            "serves GGUF weights (BANK_LLM__BACKEND=local serves a Hugging Face directory)"
        )
    return _gguf(spec, cache_dir)


def _gguf(spec: PackagedGGUF, cache_dir: Path) -> Path:
    return fetch(spec, cache_dir / "gguf" / spec.filename, cache_dir / "gguf" / f"{spec.name}.verified.json")


def resolve_llm(name_or_path: str, cache_dir: Path) -> Path:
    """A Hugging Face model directory (safetensors) for a registry name or a local path."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local
    spec = _registered(name_or_path, LLM_REGISTRY, "model")
    out = cache_dir / "hf" / spec.name
    # The joined GGUF stays in the cache: the llama.cpp backend serves it as it is.
    return derive(
        out, out / "bankassist-converted.json", spec.sha256, lambda to: _convert_gguf(_gguf(spec, cache_dir), to)
    )


def _convert_gguf(gguf: Path, out: Path) -> dict:
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
    return {"converted_at": time.time()}


def resolve_embedding(name_or_path: str) -> Path:
    """The encoder's folder inside its package (used in place: nothing to join or convert)."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local
    import_name, pip = _registered(name_or_path, EMBEDDING_PACKAGES, "embedding model")
    model_dir = package_dir(import_name, pip) / "model"
    if not (model_dir / "config.json").exists():
        raise MissingModelError(f"{model_dir} has no model files: reinstall {pip}")
    return model_dir


def resolve_rerank_model(name_or_path: str, cache_dir: Path) -> Path:
    """The reranker's sentence-transformers folder: a local path, or a packaged model joined,
    sha256-checked and unpacked once into `cache_dir/st/<name>/` (later calls only read a marker)."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return local
    spec = _registered(name_or_path, RERANK_REGISTRY, "reranker model")

    def unpack(out: Path) -> dict:
        joined = fetch(spec, out.with_name(f"{spec.name}.zip"), marker=None)
        staging = out.with_name(f"{spec.name}.unpacking")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            with zipfile.ZipFile(joined) as z:
                z.extractall(staging)
        finally:
            joined.unlink(missing_ok=True)
        inner = next((d for d in staging.iterdir() if (d / "config.json").exists()), staging)
        shutil.rmtree(out, ignore_errors=True)
        inner.replace(out)
        shutil.rmtree(staging, ignore_errors=True)
        return {"packages": list(spec.pip_names)}

    out = cache_dir / "st" / spec.name
    return derive(out, out / ".bankassist-unpacked.json", spec.sha256, unpack)


def resolve_onnx_encoder(model_dir: Path, cache_dir: Path, *, int8: bool = False) -> Path:
    """The encoder as an ONNX graph, exported once per weights file and checked against torch;
    `int8`: its dynamically quantized copy (for queries), checked against the fp32 graph.

    Kept in `cache_dir/onnx/<sha256 of the weights>/`, so a fresh clone, CI and later runs reuse
    it; the weights' digest is remembered with their size and mtime, so they are hashed once.
    """
    from knowledge_base.onnx_encoder import export_onnx, quantize_int8

    weights = model_dir / "model.safetensors"
    if not weights.exists():
        raise MissingModelError(f"{weights} missing: reinstall the embedding model's package")
    root = cache_dir / "onnx"
    digest = file_sha256(weights, root / f"{model_dir.parent.name}-{model_dir.name}.json")
    folder = root / digest[:16]

    def export(out: Path) -> dict:
        log.info("exporting %s to ONNX in %s (once; later starts reuse it)", model_dir, folder)
        checked = export_onnx(model_dir, out)
        log.info(
            "exported the encoder in %.1f s (cosine to torch >= %.6f)",
            checked["export_s"],
            checked["min_cosine_vs_torch"],
        )
        return checked

    fp32 = derive(folder / "model.onnx", folder / "export.json", digest, export)
    if not int8:
        return fp32

    def quantize(out: Path) -> dict:
        checked = quantize_int8(fp32, model_dir, out)
        log.info("quantized the query encoder to int8 (cosine to fp32 >= %.4f)", checked["min_cosine_int8_vs_fp32"])
        return checked

    return derive(folder / "model.int8.onnx", _int8_marker(folder, digest), digest, quantize)


def _int8_marker(folder: Path, digest: str) -> Path:
    """int8.json, adopted when an older version wrote it without the source's sha256: its folder is
    named by that digest, so the graph in it is the one this digest asks for."""
    marker = folder / "int8.json"
    old = read_marker(marker)
    if old and "sha256" not in old and (folder / "model.int8.onnx").exists():
        write_marker(marker, digest, **old)
    return marker
