"""Schemathesis drives the sandbox bank from docs/banking-api.yaml (the /openapi.json it serves):
whatever the fuzzer sends, no 5xx, and every answer's status, content type and body are the spec's.

Stateless: each operation alone. Stateful: scenarios along the spec's links (a customer's accounts,
cards, transactions, transfers, disputes and one-time codes feed the next calls). Scenarios start
from a seeded customer: a random customer id only ever meets 404, which the stateless test covers.
BANK_FUZZ_EXAMPLES sets the examples (tests/fuzz_budget.py).
"""

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox_bank.app import create_app
from sandbox_bank.seed import CUSTOMERS
from tests.banking_helpers import check_ledger, make_sandbox
from tests.fuzz_budget import examples, report, run_scenarios

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SEEDED = [c[0] for c in CUSTOMERS]


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    return make_sandbox(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def schema(bank):
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(bank.cfg, db=bank.db))


def test_the_sandbox_answers_every_input_by_the_spec(schema):
    operations = [result.ok() for result in schema.get_all_operations()]
    failures, count = [], Counter()
    for op in operations:
        @given(case=op.as_strategy() | op.as_strategy(GenerationMode.NEGATIVE))
        @settings(max_examples=examples(10), deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  phases=[Phase.explicit, Phase.generate])
        def check(case):
            count[case.operation.label] += 1
            try:
                case.call_and_validate(checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # collect all, report together
                failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:300]}")

        check()
    report("bank:stateless", operations=len(operations), examples=sum(count.values()),
           server_errors=sum(1 for f in failures if "Server error" in f), failures=len(failures))
    assert len(operations) == 24  # 22 paths, two with GET and POST
    assert failures == [], "\n".join(failures[:10])


def test_scenarios_along_the_links_keep_the_ledger_whole(schema, bank):
    steps, statuses, failures = Counter(), Counter(), []
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])  # chains go on from 2xx; negatives: above
    get_customer = schema["/v1/customers/{customer_id}"]["GET"]

    class Scenarios(schema.as_state_machine()):
        @initialize(target=Bundle("catch_all"), customer=st.sampled_from(SEEDED))
        def open_customer(self, customer):
            """Every scenario may start from a seeded customer, whose links reach accounts, cards, ..."""
            case = get_customer.Case(path_parameters={"customer_id": customer})
            self.recorder.record_case(case=case)
            return APIStateMachine._step(self, StepInput.initial(case))

        def before_call(self, case):
            cid = (case.path_parameters or {}).get("customer_id")
            if cid is not None and cid not in SEEDED:
                case.path_parameters = {**case.path_parameters, "customer_id": SEEDED[len(str(cid)) % len(SEEDED)]}

        scenarios = [0]

        def teardown(self):
            self.scenarios[0] += 1
            super().teardown()

        def after_call(self, response, case):
            super().after_call(response, case)
            steps[case.operation.label] += 1
            statuses[response.status_code // 100 * 100] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, checks=CHECKS, recorder=self.recorder)
            except (Exception, BaseExceptionGroup) as exc:  # collected, reported together
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {str(exc)[:300]}")

    run = run_scenarios(Scenarios, examples(25))
    missed = sorted({r.ok().label for r in schema.get_all_operations()} - set(steps))
    report("bank:stateful", operations=24, **run, operations_reached=len(steps), missed=missed, steps=sum(steps.values()),
           statuses=dict(statuses), server_errors=statuses[500], failures=len(failures))
    assert failures == [], "\n".join(failures[:10])
    assert statuses[200] > 0 and len(steps) >= 12, (steps, statuses)
    check_ledger(bank.db)  # whatever the scenarios did, every entry balances and no account went below zero
