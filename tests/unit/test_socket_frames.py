"""Frames the websocket fuzzer (tests/wsfuzz_frames.py) sends: each socket's parser answers them with an
error the client can read, never an exception that drops the connection."""

import json

import pytest
from pydantic import ValidationError

from assistant.api.schemas import AgentFrame, CustomerFrame, validation_detail
from assistant.channels import robot_protocol as rp

DEEP = "[" * 5000 + "]" * 5000  # past the JSON parser's recursion limit, under the robot's 16 kB frame limit


@pytest.mark.parametrize("text, code", [
    (DEEP, "malformed"),
    ('{"v": 1, "type": ["hello"]}', "unknown_type"),
    ('{"v": 1, "type": {"a": 1}}', "unknown_type"),
    ('{"v": [1], "type": "ping"}', "unsupported_version"),
    ('{"v": 1, "type": "ping", "id": 5}', "malformed"),
])
def test_the_robot_parser_answers_bad_frames_with_an_error_code(text, code):
    parsed = rp.parse_client(text)
    assert isinstance(parsed, tuple) and parsed[0] == code


@pytest.mark.parametrize("text", [
    DEEP, '{"ticket_id": Infinity, "text": "hi"}', '{"ticket_id": 1e30, "text": "hi"}',
    '{"ticket_id": 100000000000000000000000000000, "text": "hi"}', '{"ticket_id": 0, "text": "hi"}',
    '{"ticket_id": [1], "text": "hi"}', '{"ticket_id": 1}', '[1, "hi"]',
])
def test_an_agent_frame_outside_the_database_range_is_invalid(text):
    with pytest.raises(ValidationError):
        AgentFrame.model_validate_json(text)


def test_an_agent_frame_names_a_ticket_and_text():
    assert AgentFrame.model_validate_json('{"ticket_id": 7, "text": "On it"}') == AgentFrame(ticket_id=7, text="On it")


@pytest.mark.parametrize("frame", [{"message": "   "}, {"message": "\u2028"}, {"type": "resume"}, {"message": 5}])
def test_a_chat_frame_error_is_json(frame):
    with pytest.raises(ValidationError) as exc:
        CustomerFrame.validate_json(json.dumps(frame))
    detail = validation_detail(exc.value)
    assert json.loads(json.dumps(detail)) and all(set(e) <= {"type", "loc", "msg"} for e in detail)
