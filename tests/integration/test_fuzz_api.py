"""Schemathesis fuzzes every HTTP operation from the OpenAPI schema: no input may cause a 5xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from assistant.api.app import create_app


@schemathesis.serializer("audio/wav", "audio/flac", "audio/ogg", "audio/basic", "application/pdf", "text/markdown",
                         "text/html", "text/plain")
def _raw_bytes(ctx, value):
    """Raw upload bodies: send whatever bytes or text the fuzzer made."""
    return value if isinstance(value, bytes) else str(value).encode()


SKIP_WRITES = ("/v1/admin/kb",)  # admin writes change the shared test index; test_kb_admin covers them


@pytest.fixture(scope="module")
def operations(services):
    fuzz_settings = services.settings.model_copy(update={"admin_token": "fuzz-admin-token-1234567890"})
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(fuzz_settings, services))
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if not (op.path.startswith(SKIP_WRITES) and op.method.upper() != "GET")]


def test_no_server_errors(operations, services):
    op_services = services
    failures = []
    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            response = case.call()
            unloaded_nlu = case.path == "/v1/intent" and response.status_code == 503 and op_services.nlu is None
            if response.status_code >= 500 and not unloaded_nlu:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

        check()
    assert len(operations) >= 15
    assert failures == [], "\n".join(failures[:20])
