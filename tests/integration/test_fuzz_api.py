"""Schemathesis over every HTTP operation of the main API. No input may cause a 5xx.

Stateless: each operation alone, with whatever the fuzzer makes. Stateful: scenarios that follow
the OpenAPI links (assistant/api/openapi_links.py), so a new conversation's id and session token,
a ticket, an agent's login token and an uploaded document feed the next calls; agent and admin
routes get valid credentials, so the fuzzer reaches the handlers behind the 401s. The admin KB
routes write to a copy of part of the knowledge base, never to the shared test index.
BANK_FUZZ_EXAMPLES sets the examples (tests/fuzz_budget.py).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from assistant.api.app import create_app
from assistant.kb_admin import KnowledgeAdmin
from knowledge_base.index import build_index
from knowledge_base.retriever import LiveRetriever
from tests.fuzz_budget import examples, report, run_scenarios

ADMIN = "fuzz-admin-token-1234567890"
AGENT_PW = "fuzz-agent-passphrase-3141"
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
# An unloaded intent classifier is a documented 503, not a crash.
UNLOADED_NLU = ("/v1/intent", 503)


@schemathesis.serializer("audio/wav", "audio/flac", "audio/ogg", "audio/basic", "application/pdf", "text/markdown",
                         "text/html", "text/plain")
def _raw_bytes(ctx, value):
    """Raw upload bodies: send whatever bytes or text the fuzzer made."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture(scope="module")
def fuzz_services(services, tmp_path_factory):
    """The session's services with their own small knowledge base (products only) for the admin routes."""
    root = tmp_path_factory.mktemp("fuzzkb")
    docs, index = root / "docs", root / "index"
    shutil.copytree(services.settings.retrieval.docs_dir / "products", docs / "products")
    build_index(docs, index, services.embedder, progress=False, vector_cache=services.settings.vector_cache)
    retriever = LiveRetriever(index, services.embedder)
    kb_admin = KnowledgeAdmin(docs_dir=docs, index_dir=index, embedder=services.embedder, retriever=retriever,
                              vector_cache=services.settings.vector_cache)
    fuzz_settings = services.settings.changed(
        security__admin_token=ADMIN, voice__telephony=True, voice__twilio_auth_token=None,
        auth__agent_login_ip_limits="100000/minute",
    )
    return dataclasses.replace(services, settings=fuzz_settings, retriever=retriever, kb_admin=kb_admin)


@pytest.fixture(scope="module")
def schema(fuzz_services):
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(fuzz_services.settings, fuzz_services))


@pytest.fixture(scope="module")
def agent(fuzz_services):
    name = f"fuzz-agent-{time.monotonic_ns()}"
    view = fuzz_services.agents.add(name, AGENT_PW)
    return name, view.id


def server_error(case, response) -> str | None:
    if response.status_code < 500 or (case.path, response.status_code) == UNLOADED_NLU:
        return None
    return f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}"


def test_every_operation_alone(schema):
    operations = [result.ok() for result in schema.get_all_operations()]
    failures, count = [], Counter()
    for op in operations:
        @given(case=op.as_strategy() | op.as_strategy(GenerationMode.NEGATIVE))
        @settings(max_examples=examples(8), deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  phases=[Phase.explicit, Phase.generate])
        def check(case):
            count[case.operation.label] += 1
            error = server_error(case, case.call())
            if error:
                failures.append(error)

        check()
    report("api:stateless", operations=len(operations), examples=sum(count.values()), server_errors=len(failures))
    assert len(operations) >= 30
    assert failures == [], "\n".join(failures[:20])


class Credentials:
    """What a real client would hold: the session token of each conversation it started, an agent's
    login token, the admin token. Agent and admin routes always get valid ones (the stateless test
    covers 401s); a logout gets a login of its own, so the shared one stays valid."""

    def __init__(self, services, username: str, agent_id: int) -> None:
        self.services, self.username, self.agent_id = services, username, agent_id
        self.agent_token = services.agents.issue_token(agent_id)
        self.sessions: dict[str, str] = {}
        self.logins = 0

    def _agent(self, given: str | None) -> str:
        token = (given or "").removeprefix("Bearer ").strip()
        return token if token and self.services.agents.resolve(token) is not None else self.agent_token

    def _customer(self, case) -> str | None:
        cid = (case.path_parameters or {}).get("conversation_id")
        if case.path == "/v1/chat" and isinstance(case.body, dict):
            cid = case.body.get("conversation_id")
        return self.sessions.get(cid) if isinstance(cid, str) else None

    def authorize(self, case) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        given = next((v for k, v in (case.headers or {}).items() if k.lower() == "authorization"), None)
        path, token = case.path, None
        if path.startswith("/v1/admin/"):
            token = ADMIN
        elif path == "/v1/agent/logout":
            token = self.services.agents.issue_token(self.agent_id)
        elif path == "/v1/agent/login":
            self.logins += 1
            if self.logins % 2 and isinstance(case.body, dict):  # every other login is a real one
                case.body = {**case.body, "username": self.username, "password": AGENT_PW}
        elif path.startswith("/v1/agent/"):
            token = self._agent(given)
        else:
            token = self._customer(case)
        if token is not None or given is not None:
            headers["Authorization"] = f"Bearer {token}" if token is not None else given
        case.headers = headers

    def remember(self, case, response) -> None:
        if case.path in ("/v1/conversations", "/v1/chat") and response.status_code in (200, 201):
            body = response.json()
            if body.get("session_token"):
                self.sessions[body["conversation_id"]] = body["session_token"]


def test_stateful_scenarios(schema, fuzz_services, agent):
    creds = Credentials(fuzz_services, *agent)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])  # chains go on from 2xx; negatives: above
    steps, statuses, failures = Counter(), Counter(), []

    class Scenarios(schema.as_state_machine()):
        def before_call(self, case):
            creds.authorize(case)

        scenarios = [0]

        def teardown(self):
            self.scenarios[0] += 1
            super().teardown()

        def after_call(self, response, case):
            super().after_call(response, case)
            creds.remember(case, response)
            steps[case.operation.label] += 1
            statuses[response.status_code // 100 * 100] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            error = server_error(case, response)
            if error:
                failures.append(error)
                return
            try:
                case.validate_response(response, checks=CHECKS, recorder=self.recorder)
            except (Exception, BaseExceptionGroup) as exc:  # collected, reported together
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {str(exc)[:300]}")

    run = run_scenarios(Scenarios, examples(20))
    labels = {r.ok().label for r in schema.get_all_operations()}
    report("api:stateful", operations=len(labels), missed=sorted(labels - set(steps)), **run, operations_reached=len(steps), steps=sum(steps.values()),
           statuses=dict(statuses), server_errors=sum(1 for f in failures if " -> 5" in f), failures=len(failures))
    assert failures == [], "\n".join(failures[:20])
    assert statuses[200] > 0 and len(steps) >= 10, (steps, statuses)
