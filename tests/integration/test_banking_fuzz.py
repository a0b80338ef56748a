"""Schemathesis drives the sandbox bank from docs/banking-api.yaml (the /openapi.json it serves):
whatever the fuzzer sends, no 5xx, and every answer's status, content type and body are the spec's."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox_bank.app import create_app
from tests.banking_helpers import make_sandbox

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def operations(tmp_path_factory):
    bank = make_sandbox(tmp_path_factory.mktemp("fuzz"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(bank.cfg, db=bank.db))
    return [result.ok() for result in schema.get_all_operations()]


def test_the_sandbox_answers_every_input_by_the_spec(operations):
    failures = []
    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            try:
                case.call_and_validate(checks=CHECKS)
            except Exception as exc:  # collect all, report together
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:300]}")

        check()
    assert len(operations) == 23  # 21 paths, two with GET and POST
    assert failures == [], "\n".join(failures[:10])
