"""Voice: audio codecs, VAD, ASR, TTS, telephony adapters. Never imports assistant/."""
