"""The whole fine-tuning path on the real tiny model (SmolLM2-135M): dataset, LoRA training with a
checkpoint and resume, evaluation base vs tuned, merge, and the clear errors for bad input."""

import json
from pathlib import Path

import pytest
import yaml

from finetune.adapter import AdapterError, check_adapter
from finetune.config import ConfigError, load_config
from finetune.dataset import DatasetError
from finetune.evaluate import main as evaluate_main
from finetune.export import main as export_main
from finetune.merge import main as merge_main
from finetune.train import train
from tests.unit.test_finetune_dataset import build_tiny

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "finetune" / "configs" / "qwen05b-lora.yaml"
MODELS = Path.home() / ".cache" / "bankassist" / "models" / "hf"
SMOL, QWEN = MODELS / "smollm2-135m", MODELS / "qwen2.5-coder-0.5b"

pytestmark = pytest.mark.skipif(not (SMOL / "config.json").exists(),
                                reason="SmolLM2 not converted (bankassist models prepare --llm smollm2-135m)")


def smoke_config(data: Path, out: Path, **overrides):
    return load_config(SHIPPED, smoke=True, overrides={
        "dataset_dir": str(data), "output_dir": str(out), "max_train_examples": 2, "eval_examples": 0,
        "grad_accum": 1, "max_steps": 1, "threads": 2, **overrides})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("smoke")
    data, _ = build_tiny(root)
    out = root / "run"
    first = train(smoke_config(data, out), progress=False)
    second = train(smoke_config(data, out, max_steps=2, eval_examples=1), resume=True, progress=False)
    return data, out, first, second


def test_train_writes_adapter_config_and_metrics(run):
    data, out, first, second = run
    adapter = out / "adapter"
    for name in ("adapter_config.json", "adapter_model.safetensors", "bankassist_adapter.json",
                 "train_config.yaml", "metrics.json"):
        assert (adapter / name).exists(), name
    assert yaml.safe_load((out / "train_config.yaml").read_text())["lora"]["target_modules"] == ["q_proj", "v_proj"]
    assert first["optimizer_steps"] == 1 and first["first_loss"] > 0 and first["dtype"] in ("bfloat16", "float32")
    # resumed from the step-1 checkpoint: one more step, and the history carries on
    assert second["optimizer_steps"] == 2 and len(second["loss_history"]) == 2
    assert second["loss_history"][0] == first["loss_history"][0]
    assert (out / "checkpoints" / "step-2" / "state.json").exists()
    assert json.loads((out / "metrics.json").read_text())["optimizer_steps"] == 2


def test_evaluate_and_merge(run, tmp_path, capsys):
    data, out, _, _ = run
    report = tmp_path / "eval.json"
    assert evaluate_main(["--adapter", str(out / "adapter"), "--dataset", str(data), "--limit", "2",
                          "--max-new-tokens", "4", "--speed-samples", "0", "--out", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "answer correctness" in printed and "faithfulness" in printed
    r = json.loads(report.read_text())
    assert set(r["results"]) == {"base", "tuned"} and "goal_met" in r["verdict"]
    assert len(r["outputs"]["tuned"]) == 2
    merged = tmp_path / "merged"
    assert merge_main(["--adapter", str(out / "adapter"), "--out", str(merged)]) == 0
    assert (merged / "config.json").exists() and (merged / "model.safetensors").exists()
    assert merge_main(["--adapter", str(out / "adapter"), "--out", str(merged)]) == 2  # exists: no overwrite
    shipped = tmp_path / "shipped"
    assert export_main(["--adapter", str(out / "adapter"), "--out", str(shipped), "--eval", str(report)]) == 0
    assert check_adapter(shipped, json.loads((out / "adapter" / "bankassist_adapter.json").read_text())["architecture"])
    assert not (shipped / "tokenizer.json").exists() and "outputs" not in json.loads((shipped / "eval_test.json").read_text())
    assert (shipped / "adapter.gguf").stat().st_size > 0  # the llama.cpp form (tests/integration/test_llamacpp.py)


def test_bad_input_fails_before_training(run, tmp_path):
    data, _, _, _ = run
    with pytest.raises(ConfigError, match="not_a_layer.*not Linear layers"):
        train(smoke_config(data, tmp_path / "a", lora={"r": 2, "alpha": 4, "dropout": 0.0,
                                                       "target_modules": ["q_proj", "not_a_layer"]}), progress=False)
    assert not (tmp_path / "a" / "checkpoints").exists()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "train.jsonl").write_text('{"id": 1,\n')
    (broken / "val.jsonl").write_text("")
    with pytest.raises(DatasetError, match="not valid JSON"):
        train(smoke_config(broken, tmp_path / "b"), progress=False)
    with pytest.raises(DatasetError, match="not found"):
        train(smoke_config(tmp_path / "missing", tmp_path / "c"), progress=False)


def test_adapter_for_another_base_model_is_refused(run, tmp_path, capsys):
    _, out, _, _ = run
    adapter = out / "adapter"
    if (QWEN / "config.json").exists():
        from transformers import AutoConfig

        with pytest.raises(AdapterError, match="trained on 'smollm2-135m'"):
            check_adapter(adapter, AutoConfig.from_pretrained(QWEN))
        assert evaluate_main(["--adapter", str(adapter), "--base-model", str(QWEN), "--dataset", str(run[0])]) == 2
        assert "does not match this base model" in capsys.readouterr().err
    # the serving side refuses it too, before peft touches the model
    from assistant.llm.local import LocalLoraGenerator

    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for f in adapter.iterdir():
        (wrong / f.name).write_bytes(f.read_bytes())
    card = json.loads((wrong / "bankassist_adapter.json").read_text())
    card["architecture"]["hidden_size"] = 896
    (wrong / "bankassist_adapter.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="does not match the loaded base model"):
        LocalLoraGenerator(SMOL, adapter_path=wrong)
