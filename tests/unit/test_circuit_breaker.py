"""Circuit breaker states: closed -> open after N failures -> half-open after the cool-down -> one trial."""

from assistant.banking.breaker import CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_opens_after_n_failures_and_recovers_through_one_trial():
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=3, reset_after_s=10, clock=clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state == "closed"
    assert b.allow()
    b.record_failure()
    assert b.state == "open" and not b.allow()
    clock.t = 9.9
    assert not b.allow()
    clock.t = 10
    assert b.state == "half_open"
    assert b.allow()  # the one trial
    assert not b.allow()  # nobody else while it runs
    b.record_success()
    assert b.state == "closed" and b.allow()


def test_a_failed_trial_opens_again_for_a_full_cool_down():
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=1, reset_after_s=5, clock=clock)
    b.record_failure()
    clock.t = 5
    assert b.allow()
    b.record_failure()
    assert b.state == "open" and not b.allow()
    clock.t = 9.9
    assert not b.allow()
    clock.t = 10
    assert b.allow()


def test_success_resets_the_count():
    b = CircuitBreaker(failure_threshold=2, reset_after_s=5, clock=FakeClock())
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state == "closed"


def test_a_cancelled_trial_lets_the_next_one_through():
    clock = FakeClock()
    b = CircuitBreaker(failure_threshold=1, reset_after_s=1, clock=clock)
    b.record_failure()
    clock.t = 1
    assert b.allow()
    b.release()
    assert b.allow()
