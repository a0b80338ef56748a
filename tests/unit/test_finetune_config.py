"""Training config, adapter checks, metrics and the serving settings for the adapter."""

import json
from pathlib import Path

import pytest
import torch
import yaml

from assistant.config import DEFAULT_LLM_ADAPTER, Settings
from finetune.adapter import AdapterError, check_adapter
from finetune.config import ConfigError, check_target_modules, load_config
from finetune.metrics import is_refusal, score, summarize

SHIPPED = Path(__file__).resolve().parents[2] / "finetune" / "configs" / "qwen05b-lora.yaml"


def write(tmp_path, data) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_shipped_config_and_smoke_overrides():
    cfg = load_config(SHIPPED)
    assert cfg.base_model == "qwen2.5-coder-0.5b" and set(cfg.lora.target_modules) >= {"q_proj", "v_proj"}
    assert cfg.max_length <= 512 and cfg.threads <= 2
    smoke = load_config(SHIPPED, smoke=True)
    assert smoke.base_model == "smollm2-135m" and smoke.max_steps <= 5 and smoke.lora.r == 4
    assert smoke.learning_rate == cfg.learning_rate  # everything else comes from the main config


@pytest.mark.parametrize("path", sorted(SHIPPED.parent.glob("*.yaml")), ids=lambda p: p.name)
def test_every_config_in_the_folder_loads(path):
    cfg = load_config(path)
    assert cfg.base_model == "qwen2.5-coder-0.5b" and cfg.threads <= 2
    if path != SHIPPED:  # another run never writes over the shipped config's run
        assert cfg.output_dir != load_config(SHIPPED).output_dir


def test_bad_configs_fail_before_training(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match="unknown setting.*lerning_rate"):
        load_config(write(tmp_path, {"lerning_rate": 1e-4}))
    with pytest.raises(ConfigError, match="unknown setting.*rank"):
        load_config(write(tmp_path, {"lora": {"rank": 8}}))
    with pytest.raises(ConfigError, match="target_modules"):
        load_config(write(tmp_path, {"lora": {"target_modules": []}}))
    with pytest.raises(ConfigError, match="dtype"):
        load_config(write(tmp_path, {"dtype": "fp8"}))
    (tmp_path / "broken.yaml").write_text("lora: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yaml")
    with pytest.raises(ConfigError, match="smoke"):
        load_config(write(tmp_path, {"seed": 1}), smoke=True)
    with pytest.raises(ConfigError, match="not found as a directory"):
        load_config(write(tmp_path, {"base_model": "no-such-model", "models_dir": str(tmp_path)})).base_model_dir()


def test_unknown_target_module_is_named():
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj, self.v_proj = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)

    check_target_modules(Block(), ["q_proj", "v_proj"])
    with pytest.raises(ConfigError, match=r"\['qkv_proj'\].*available: q_proj, v_proj"):
        check_target_modules(Block(), ["q_proj", "qkv_proj"])


def fake_adapter(tmp_path, arch: dict) -> Path:
    d = tmp_path / "adapter"
    d.mkdir()
    (d / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (d / "adapter_model.safetensors").write_bytes(b"")
    (d / "bankassist_adapter.json").write_text(json.dumps({"base_model": "smollm2-135m", "architecture": arch}))
    return d


def test_adapter_for_another_base_is_refused(tmp_path):
    qwen = {"model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 24, "vocab_size": 151936}
    smol = {"model_type": "llama", "hidden_size": 576, "num_hidden_layers": 30, "vocab_size": 49152}
    adapter = fake_adapter(tmp_path, smol)
    assert check_adapter(adapter, smol)["base_model"] == "smollm2-135m"
    with pytest.raises(AdapterError, match="trained on 'smollm2-135m'.*hidden_size 576 vs 896"):
        check_adapter(adapter, qwen)
    with pytest.raises(AdapterError, match="does not exist"):
        check_adapter(tmp_path / "nope", qwen)
    (adapter / "adapter_config.json").unlink()
    with pytest.raises(AdapterError, match="not a peft adapter"):
        check_adapter(adapter, qwen)


EXAMPLE = {"id": "t1", "kind": "answer", "refuse": False, "key_figures": ["25"], "gold": [2],
           "passages": [{"title": "Hours", "text": "Open 9:00 a.m. to 5 p.m."},
                        {"title": "Wire transfers", "text": "An outgoing wire costs $25."}]}


def test_scores():
    good = score(EXAMPLE, "An outgoing wire costs $25 [2].")
    assert good["correct"] and good["faithful"] and good["cited_gold"] and not good["refused"]
    bad = score(EXAMPLE, "A wire costs $30 [1].")
    assert not bad["correct"] and not bad["faithful"] and bad["unsupported"] == ["30"] and not bad["cited_gold"]
    refuse = {**EXAMPLE, "kind": "unanswerable", "refuse": True, "key_figures": [], "gold": []}
    r = score(refuse, "I'm sorry, I don't have that information. Would you like me to connect you with an agent?")
    assert r["refused"] and r["offers_agent"] and "correct" not in r
    s = summarize([good, bad, r])
    assert s["correctness"] == 0.5 and s["correct_refusal_rate"] == 1.0 and s["false_refusal_rate"] == 0.0
    assert round(s["faithfulness"], 3) == 0.667 and s["citation_correct_rate"] == 0.5
    assert is_refusal("I can only help with banking questions.") and not is_refusal("It costs $25.")


def test_adapter_settings(monkeypatch):
    for name in ("BANK_LLM__ADAPTER_PATH", "BANK_LLM__USE_ADAPTER", "BANK_LLM__MODEL"):
        monkeypatch.delenv(name, raising=False)
    on_disk = (DEFAULT_LLM_ADAPTER / "adapter_config.json").exists()
    s = Settings(_env_file=None)
    assert s.llm.adapter == (DEFAULT_LLM_ADAPTER if on_disk else None)
    assert Settings(_env_file=None, llm={"use_adapter": False}).llm.adapter is None
    assert Settings(_env_file=None, llm={"model": "smollm2-135m"}).llm.adapter is None  # never on another base
    assert Settings(_env_file=None, llm={"adapter_path": "/x/a", "model": "smollm2-135m"}).llm.adapter == Path("/x/a")
    monkeypatch.setenv("BANK_LLM__ADAPTER_PATH", "")
    assert Settings(_env_file=None).llm.adapter is None  # BANK_LLM__ADAPTER_PATH= switches it off
    monkeypatch.setenv("BANK_LLM__ADAPTER_PATH", "/y/b")
    assert Settings(_env_file=None).llm.adapter == Path("/y/b")
    monkeypatch.setenv("BANK_LLM__USE_ADAPTER", "false")
    assert Settings(_env_file=None).llm.adapter is None
