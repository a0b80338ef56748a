"""Response models keep the OpenAPI contract the fuzzer checks (tests/integration/test_fuzz_api.py)."""

import json
from datetime import UTC, datetime

from assistant.api.schemas import ConversationOut


def test_a_naive_database_time_is_sent_as_utc_date_time():
    """SQLite hands back naive UTC times; 'date-time' in the schema needs the offset (RFC 3339)."""
    out = ConversationOut(conversation_id="c1", channel="web", status="bot", created_at=datetime(2026, 3, 10, 15, 0),
                          messages=[])
    assert json.loads(out.model_dump_json())["created_at"] == "2026-03-10T15:00:00Z"
    assert out.created_at == datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
