"""Backoff: exponential with jitter, capped, and the upstream's Retry-After honoured."""

from __future__ import annotations

import random

from tollhouse.errors import UpstreamRateLimited, UpstreamUnavailable
from tollhouse.routing.config import RetryConfig
from tollhouse.routing.retry import Backoff, retry_after_s


def test_backoff_grows_and_is_capped() -> None:
    backoff = Backoff(
        RetryConfig(initial_backoff_s=0.5, multiplier=2, max_backoff_s=3, jitter=False), random.Random()
    )
    assert [backoff.delay(n, UpstreamUnavailable("x")) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]


def test_jitter_stays_between_half_and_all_of_the_backoff() -> None:
    backoff = Backoff(RetryConfig(initial_backoff_s=1.0, jitter=True), random.Random(3))
    delays = [backoff.delay(1, UpstreamUnavailable("x")) for _ in range(200)]
    assert all(d is not None and 0.5 <= d <= 1.0 for d in delays)
    assert len(set(delays)) > 100


def test_retry_after_raises_the_wait_and_a_long_one_refuses_to_wait() -> None:
    backoff = Backoff(RetryConfig(initial_backoff_s=0.1, jitter=False, max_retry_after_s=5), random.Random())
    assert backoff.delay(1, UpstreamRateLimited("x", headers={"retry-after": "2"})) == 2.0
    assert backoff.delay(1, UpstreamRateLimited("x", headers={"retry-after": "6"})) is None


def test_retry_after_must_be_a_number() -> None:
    assert (
        retry_after_s(UpstreamRateLimited("x", headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}))
        is None
    )
    assert retry_after_s(UpstreamRateLimited("x", headers={"retry-after": "-1"})) is None
    assert retry_after_s(UpstreamRateLimited("x")) is None
    assert retry_after_s(UpstreamRateLimited("x", headers={"retry-after": "1.5"})) == 1.5
