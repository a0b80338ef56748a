"""Settings sections of the voice line and of self-service on the bank's API."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from assistant.config.sections import PROJECT_ROOT, Section


class VoiceSettings(Section):
    """The phone line and the browser voice page (the [voice] extra; docs/voice.md)."""

    enabled: bool = Field(default=True, description="load ASR/TTS at start when the [voice] extra is installed")
    telephony: bool = Field(default=True, description="serve the Twilio routes (/v1/voice/twiml, /v1/voice/twilio)")
    twilio_auth_token: str | None = Field(
        default=None, description="checks X-Twilio-Signature on the webhooks and the media stream, and keys the call "
        "tokens; required in production while telephony is on")
    public_url: str | None = Field(default=None, description="https://host the phone provider reaches; default: the request's")
    hold_queue: str = Field(default="bank-agents", description="Twilio queue when no handoff agent_transfer_number")
    asr_model: str = Field(default="tiny.en", description="tiny.en | base (multilingual) | a CTranslate2 Whisper dir")
    asr_language: str = Field(default="en", description="language code; empty = detect (multilingual models)")
    asr_beam_size: int = Field(default=1, ge=1, le=5, description="Whisper beam width (1: greedy, fastest)")
    asr_window: Literal["fit", "full"] = Field(default="fit", description="encode the utterance only, or 30 s")
    asr_prompt: str | None = Field(default=None, description="Whisper initial prompt; default: banking vocabulary")
    tts_length_scale: float | None = Field(default=None, description="Piper speaking rate (<1 faster)")
    vad_threshold: float = Field(default=0.5, description="Silero VAD speech probability that counts as speech")
    min_speech_ms: int = Field(default=160, description="speech that starts a turn and interrupts playback")
    end_silence_ms: int = Field(default=480, description="silence that ends the caller's turn")
    silence_reprompt_s: float = Field(default=8.0, description="silence after which the caller is asked again")
    max_reprompts: int = Field(default=2, description="reprompts before the call ends")
    greeting: str | None = Field(default=None, description="default: thanks for calling {bank_name}")
    csat: bool = Field(default=True, description="after a caller's goodbye, ask for a keypad rating 1-5")
    max_upload_mb: float = Field(default=10.0, description="largest /v1/asr upload (413 past it)")
    max_audio_s: float = Field(default=60.0, gt=0, description="longest audio /v1/asr decodes (read from the header first)")
    idle_timeout_s: float = Field(default=30.0, gt=0, description="a voice socket that receives nothing this long is closed "
                                  "(code 4408)")

    @field_validator("twilio_auth_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value


class SelfServiceSettings(Section):
    """Flows for verified customers (assistant/dialogue/, docs/self-service.md)."""

    enabled: bool = Field(default=True, description="flows for verified customers (assistant/dialogue)")
    flows_dir: Path = Field(default=PROJECT_ROOT / "assistant" / "dialogue" / "flows",
                            description="the self-service flow files (YAML), checked at start-up")
    min_similarity: float = Field(default=0.6, ge=0, le=1, description="a message this close (cosine) to a flow's "
                                  "examples starts it")
    min_intent_confidence: float = Field(default=0.6, ge=0, le=1, description="or a flow's trigger intent at least "
                                         "this confident")
    customer_cache_s: float = Field(default=60.0, ge=0, le=600, description="a conversation's next turns read the "
                                    "customer's accounts, cards and payees read this recently (0: from the bank every "
                                    "turn); an action on money or a card reads them again")


class BankingSettings(Section):
    """The core bank's REST API (docs/banking.md, docs/banking-api.yaml)."""

    url: str = Field(default="http://127.0.0.1:8100", description="the core-banking REST API; the default is the sandbox bank")
    api_token: str | None = Field(default=None, description="bearer token the assistant sends to the bank")
    timeout_s: float = Field(default=5.0, gt=0, description="the whole answer of one banking call")
    connect_timeout_s: float = Field(default=2.0, gt=0, description="connecting to the bank")
    retries: int = Field(default=2, ge=0, le=5, description="retries on connect errors, timeouts, 502/503/504")
    breaker_failures: int = Field(default=5, ge=1, description="failed calls in a row that open the circuit")
    breaker_reset_s: float = Field(default=30.0, gt=0, description="open circuit: wait before one trial call")


class SandboxSettings(Section):
    """The sandbox bank (sandbox_bank/), the default core bank."""

    port: int = Field(default=8100, description="`bankassist sandbox serve` listens here")
    data_dir: Path | None = Field(default=None, description="sandbox bank's files; default: data_dir/sandbox")
    database_url: str | None = Field(default=None, description="sandbox bank's own database (SQLAlchemy URL); "
                                     "default: a SQLite file in the sandbox data_dir")


class IdentitySettings(Section):
    """The bank's signed identity assertions (assistant/banking/identity.py)."""

    issuer: str = Field(default="https://sandbox.larkspur.example", description="`iss` of identity assertions")
    audience: str = Field(default="bankassist", description="`aud` identity assertions must name")
    jwks_path: Path | None = Field(default=None, description="the bank's public keys (JWKS file); default: the "
                                   "sandbox bank's jwks.json")
    leeway_s: int = Field(default=30, ge=0, le=300, description="clock skew allowed on exp/iat/nbf")
    max_lifetime_s: int = Field(default=900, ge=60, description="assertions valid longer than this are refused")
