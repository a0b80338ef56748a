"""Speech over HTTP: POST /v1/asr (audio -> text), POST /v1/tts (text -> WAV), and the browser voice page."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from assistant.api.capped_body import capped_form, read_capped
from assistant.api.deps import SettingsDep
from assistant.api.routes.voice_deps import VoiceDep
from assistant.api.schemas import ErrorOut, Responses
from assistant.config import PROJECT_ROOT

router = APIRouter(tags=["voice"])
_ERRORS: Responses = {s: {"model": ErrorOut} for s in (413, 415, 422, 503)}


class AsrOut(BaseModel):
    text: str
    language: str
    duration_s: float
    processing_s: float


class TtsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)


async def _upload(request: Request, limit: int, detail: str) -> tuple[bytes, str | None, str | None]:
    """The audio of a raw body (Content-Type: audio/...) or of a multipart form's first file, read with a size cap."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await capped_form(request, limit, detail)
        files = [v for v in form.values() if isinstance(v, UploadFile)]
        if not files:
            raise HTTPException(status_code=422, detail="multipart upload without a file field")
        data = await files[0].read(limit + 1)
        if len(data) > limit:
            raise HTTPException(status_code=413, detail=detail)
        return data, files[0].content_type, files[0].filename
    return await read_capped(request, limit, detail), ctype, None


@router.post("/v1/asr", response_model=AsrOut, responses=_ERRORS,
             openapi_extra={"requestBody": {"content": {"audio/wav": {}, "audio/flac": {}, "audio/ogg": {}, "audio/basic": {}}}})
async def asr(request: Request, voice: VoiceDep, settings: SettingsDep) -> AsrOut:
    """Transcribe WAV, FLAC, OGG or 8 kHz mu-law (audio/basic) sent as the body or as a multipart file.

    413 when the upload passes BANK_VOICE__MAX_UPLOAD_MB or the audio BANK_VOICE__MAX_AUDIO_S."""
    from voice.audio import AudioTooLong, CorruptAudio, UnsupportedAudio, decode_audio
    from voice.stack import transcribe_upload

    limit = int(settings.voice.max_upload_mb * 1024 * 1024)
    data, ctype, name = await _upload(request, limit, f"audio larger than {settings.voice.max_upload_mb:g} MB")
    try:
        audio = await asyncio.to_thread(decode_audio, data, ctype, name, max_s=settings.voice.max_audio_s)
    except AudioTooLong as exc:
        raise HTTPException(status_code=413, detail=str(exc)) from None
    except UnsupportedAudio as exc:
        raise HTTPException(status_code=415, detail=str(exc)) from None
    except CorruptAudio as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    t = await asyncio.to_thread(transcribe_upload, voice, audio.samples)
    return AsrOut(text=t.text, language=t.language, duration_s=t.duration_s, processing_s=t.processing_s)


@router.post("/v1/tts", response_class=Response, responses={200: {"content": {"audio/wav": {}}}, **_ERRORS})
async def tts(body: TtsIn, voice: VoiceDep) -> Response:
    """Speak text (normalised for speech: amounts, card numbers, dates) as 16-bit mono WAV."""
    from voice.audio import wav_bytes

    if not body.text.strip():
        raise HTTPException(status_code=422, detail="text must not be blank")
    speech = await asyncio.to_thread(voice.tts.synthesize_all, body.text)
    return Response(wav_bytes(speech.pcm16, speech.sample_rate), media_type="audio/wav",
                    headers={"X-Audio-Duration": f"{speech.duration_s:.3f}", "X-Synthesis-Seconds": f"{speech.synthesis_s:.3f}"})


@router.get("/voice", include_in_schema=False)
async def voice_page() -> FileResponse:
    return FileResponse(PROJECT_ROOT / "web" / "voice.html")
