"""Logging: every handler passes through the query-string scrubber and the PII redaction filter;
optional JSON lines."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar

from assistant.privacy import RedactingFilter

request_id: ContextVar[str] = ContextVar("request_id", default="-")


# A query string: "?" and what follows up to whitespace or a quote. One pass, linear time.
_QUERY = re.compile(r"""\?([^\s"']+)""")
_NAME = re.compile(r"[\w.-]{1,32}")


def _names_only(match: re.Match) -> str:
    pairs = (p.split("=", 1)[0] for p in match.group(1).split("&"))
    return "?" + "&".join(f"{name}=…" if _NAME.fullmatch(name) else "…" for name in pairs)


class QueryStringFilter(logging.Filter):
    """Keeps parameter names and drops the values of every query string in a log line: a URL may
    carry a token or customer text (e.g. `/v1/agent/ws?token=…`, `/v1/kb/search?q=…&k=…`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            cleaned = _QUERY.sub(_names_only, message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": round(record.created, 3), "level": record.levelname, "logger": record.name,
            "request_id": getattr(record, "request_id", "-"), "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data)


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(QueryStringFilter())
    handler.addFilter(RedactingFilter())
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "sentence_transformers", "faiss", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # also on uvicorn's own loggers, for handlers a deployment attaches to them directly
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryStringFilter) for f in logger.filters):
            logger.addFilter(QueryStringFilter())
