"""Prometheus metrics, one registry per Services (so tests and processes never collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY = (0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 4, 8, 16, 32)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.turn = Histogram("bankassist_turn_seconds", "Whole turn, message received to final reply",
                              ["channel", "path"], buckets=LATENCY, registry=r)
        self.first_token = Histogram("bankassist_first_token_seconds", "Message received to first streamed text",
                                     ["channel"], buckets=LATENCY, registry=r)
        self.handoffs = Counter("bankassist_handoffs_total", "Hand-offs to a human, by reason", ["reason"], registry=r)
        self.intents = Counter("bankassist_intents_total", "Classified intents", ["intent"], registry=r)
        self.errors = Counter("bankassist_errors_total", "Failures turned into events, by stage", ["stage"], registry=r)
        self.asr = Histogram("bankassist_asr_seconds", "Speech recognition time per utterance", buckets=LATENCY, registry=r)
        self.tts = Histogram("bankassist_tts_seconds", "Speech synthesis time per sentence", buckets=LATENCY, registry=r)
        self.http = Histogram("bankassist_http_request_seconds", "HTTP requests", ["route", "method", "status"],
                              buckets=LATENCY, registry=r)

    def observe_reply(self, channel: str, reply) -> None:
        self.turn.labels(channel, reply.path).observe(reply.latency_ms / 1000)
        if reply.first_token_ms is not None:
            self.first_token.labels(channel).observe(reply.first_token_ms / 1000)
        if reply.intent is not None:
            self.intents.labels(reply.intent.name).inc()
        if reply.path == "handoff" and reply.handoff is not None:
            self.handoffs.labels(reply.handoff.reason.split(":")[0]).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
