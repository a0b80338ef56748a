"""Sentence encoders in ONNX Runtime: the same weights, exported once from the package's safetensors.

all-MiniLM-L6-v2 (retrieval, FAQ, intent) and all-mpnet-base-v2 (the reranker of quoted answers)
go through the same export: the graph takes the inputs the model's tokenizer makes.

Why: the query encoder limits the FAQ path under load, ONNX Runtime runs the same weights a few
times faster than torch, and onnxruntime is already installed for the VAD and TTS voices
(docs/decisions/0008-onnx-int8-query-encoder.md; `bench/embed_speed.py` measures it).

The export runs torch's ONNX exporter (it needs the `onnx` package) on the mean-pooled,
L2-normalised sentence embedding, then checks the exported graph against torch on sample
texts; a graph that disagrees is refused, never cached.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

# Texts the export is checked on: short questions and a passage longer than 128 tokens,
# so padding and truncation are exercised.
_CHECK_TEXTS = [
    "What is the wire cut-off time?",
    "i lost my card",
    "How long do I have to report an unauthorized transfer before my liability goes up? " * 12,
]
MIN_COSINE = 0.9999
# int8 weights (dynamic quantization) move a vector a little; a graph that moves one further than
# this is refused (measured margins: docs/decisions/0008-onnx-int8-query-encoder.md).
MIN_COSINE_INT8 = 0.97


class EncoderExportError(RuntimeError):
    """The exported graph does not reproduce the torch model."""


def _max_length(model_dir: Path) -> int:
    cfg = model_dir / "sentence_bert_config.json"
    return int(json.loads(cfg.read_text()).get("max_seq_length", 256)) if cfg.exists() else 256


def export_onnx(model_dir: Path, out: Path) -> dict:
    """Write `out` (model.onnx) from a sentence-transformers model directory; returns what was checked."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class Pooled(torch.nn.Module):
        """Mean over real tokens, then unit length: what sentence-transformers computes."""

        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, *token_type_ids):
            extra = {"token_type_ids": token_type_ids[0]} if token_type_ids else {}  # BERT has them, MPNet not
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    sample = tokenizer(_CHECK_TEXTS[:2], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names]
    tmp = out.with_name(out.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["embedding"] = {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(
            Pooled(model), tuple(sample[n] for n in names), str(tmp), input_names=names,
            output_names=["embedding"], opset_version=17, dynamo=False,
            dynamic_axes=axes,
        )
    reference = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True).encode(
        _CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    got = OnnxEncoder(tmp, model_dir).encode(_CHECK_TEXTS)
    cosine = float((reference * got).sum(axis=1).min())
    if cosine < MIN_COSINE:
        tmp.unlink(missing_ok=True)
        raise EncoderExportError(f"ONNX export of {model_dir} disagrees with torch (cosine {cosine:.6f} < {MIN_COSINE})")
    tmp.replace(out)
    return {"min_cosine_vs_torch": cosine, "export_s": round(time.perf_counter() - t0, 1)}


def quantize_int8(fp32: Path, model_dir: Path, out: Path) -> dict:
    """int8 weights for the query encoder (about half the fp32 graph's time a question).

    A graph that moves a check text's vector further than MIN_COSINE_INT8 from fp32 is refused.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = out.with_name(out.name + ".tmp")
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    want, got = OnnxEncoder(fp32, model_dir).encode(_CHECK_TEXTS), OnnxEncoder(tmp, model_dir).encode(_CHECK_TEXTS)
    cosine = float((want * got).sum(axis=1).min())
    if cosine < MIN_COSINE_INT8:
        tmp.unlink(missing_ok=True)
        raise EncoderExportError(f"int8 encoder disagrees with fp32 (cosine {cosine:.4f} < {MIN_COSINE_INT8})")
    tmp.replace(out)
    return {"min_cosine_int8_vs_fp32": cosine}


class OnnxEncoder:
    """Unit-length sentence vectors from an exported model; tokenised by the model's own tokenizer.json."""

    def __init__(self, model_file: Path, tokenizer_dir: Path, *, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads  # models share the cores: one thread each by default
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_file), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
        # sentence-transformers truncates at max_seq_length (256), not tokenizer.json's 128.
        self._tokenizer.enable_truncation(_max_length(tokenizer_dir))
        pad = self._tokenizer.padding or {"pad_id": 0, "pad_token": "[PAD]"}  # MiniLM [PAD]=0, MPNet <pad>=1
        self._tokenizer.enable_padding(pad_id=pad["pad_id"], pad_token=pad["pad_token"])  # to the longest text of the batch
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                 "token_type_ids": np.zeros_like(ids)}
        return self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0].astype(np.float32)
