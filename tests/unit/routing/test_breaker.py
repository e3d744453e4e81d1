"""The circuit breaker's states: closed → open → half-open probe → closed or open again."""

from __future__ import annotations

from tollhouse.routing.breaker import CircuitBreaker, State
from tollhouse.routing.config import CircuitConfig


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **config: float) -> CircuitBreaker:
    return CircuitBreaker("p/m", CircuitConfig(**config), clock)  # type: ignore[arg-type]


def test_consecutive_failures_open_it_and_a_success_resets_the_run() -> None:
    b = breaker(Clock(), consecutive_failures=3)
    b.failure()
    b.failure()
    b.success()
    b.failure()
    b.failure()
    assert b.state is State.CLOSED and b.allow()
    b.failure()
    assert b.state is State.OPEN and not b.allow()


def test_the_failure_rate_over_the_window_opens_it() -> None:
    clock = Clock()
    b = breaker(clock, consecutive_failures=100, failure_rate=0.5, min_calls=10, window_s=10)
    for _ in range(5):
        b.success()
        b.failure()
    assert b.state is State.OPEN


def test_too_few_calls_or_old_failures_do_not_open_it() -> None:
    clock = Clock()
    b = breaker(clock, consecutive_failures=100, failure_rate=0.5, min_calls=10, window_s=10)
    for _ in range(4):
        b.failure()
        b.success()
    assert b.state is State.CLOSED  # 8 calls < min_calls
    clock.now += 11  # the window has moved past them
    for _ in range(3):
        b.failure()
    for _ in range(7):
        b.success()
    assert b.state is State.CLOSED  # 3 of 10 in the window


def test_after_the_cooldown_one_probe_decides() -> None:
    clock = Clock()
    b = breaker(clock, consecutive_failures=1, cooldown_s=30)
    b.failure()
    clock.now += 29
    assert not b.allow() and 0 < b.retry_in() <= 1
    clock.now += 1
    assert b.allow()  # the probe
    assert b.state is State.HALF_OPEN and not b.allow()  # one at a time
    b.success()
    assert b.state is State.CLOSED and b.allow() and b.allow()


def test_a_failed_probe_reopens_with_a_doubled_cooldown_up_to_the_cap() -> None:
    clock = Clock()
    b = breaker(clock, consecutive_failures=1, cooldown_s=10, max_cooldown_s=25)
    b.failure()
    for expected in (20, 25, 25):
        clock.now += 100
        assert b.allow()
        b.failure()
        assert b.state is State.OPEN and b.retry_in() == expected
    clock.now += 100
    assert b.allow()
    b.success()
    b.failure()
    assert b.retry_in() == 10  # closing resets the cooldown


def test_a_released_probe_lets_the_next_one_through() -> None:
    clock = Clock()
    b = breaker(clock, consecutive_failures=1, cooldown_s=1)
    b.failure()
    clock.now += 2
    assert b.allow() and not b.allow()
    b.release()
    assert b.allow()


def test_late_failures_while_open_change_nothing() -> None:
    clock = Clock()
    b = breaker(clock, consecutive_failures=1, cooldown_s=5)
    b.failure()
    b.failure()
    assert b.retry_in() == 5


def test_listeners_hear_local_openings_but_not_shared_ones() -> None:
    heard: list[tuple[str, float]] = []
    clock = Clock()
    b = breaker(clock, consecutive_failures=1, cooldown_s=7)
    b.set_listener(lambda target, seconds: heard.append((target, seconds)))
    b.open_until(3)
    assert b.state is State.OPEN and b.retry_in() == 3 and heard == []
    b.open_until(1)  # an older opening does not shorten it
    assert b.retry_in() == 3
    clock.now += 3
    assert b.allow()
    b.failure()
    assert heard == [("p/m", 14)]
