"""AuthThrottle: failures counted per client in a window; a blocked client gets 429 first."""

from __future__ import annotations

from tests.unit.support import make_ctx
from tollhouse.errors import RateLimited
from tollhouse.pipeline.context import Decision
from tollhouse.pipeline.outcome import Deny
from tollhouse.policies.auth_throttle import AuthThrottle


def _failed(client: str, reason: str = "bad_key", status: int = 401):  # type: ignore[no-untyped-def]
    ctx = make_ctx()
    ctx.client = client
    ctx.status = status
    ctx.decisions.append(Decision("authenticate", "deny", reason))
    return ctx


async def test_blocks_after_max_failures_and_names_retry_after() -> None:
    throttle = AuthThrottle(max_failures=3, window_s=60, block_s=30)
    for _ in range(3):
        assert await throttle.enter(_failed("10.0.0.1")) is None
        await throttle.exit(_failed("10.0.0.1"))
    outcome = await throttle.enter(_failed("10.0.0.1"))
    assert isinstance(outcome, Deny) and isinstance(outcome.error, RateLimited)
    assert outcome.error.headers["retry-after"] == "30"
    assert outcome.reason == "auth_throttled"
    assert await throttle.enter(_failed("10.0.0.2")) is None  # other clients are not affected


async def test_missing_keys_and_other_statuses_do_not_count() -> None:
    throttle = AuthThrottle(max_failures=1, window_s=60, block_s=30)
    await throttle.exit(_failed("c", reason="no_key"))
    await throttle.exit(_failed("c", status=403))
    await throttle.exit(_failed("c", status=200))
    assert await throttle.enter(_failed("c")) is None


def test_window_resets_and_block_expires() -> None:
    throttle = AuthThrottle(max_failures=2, window_s=10, block_s=5)
    throttle.record_failure("c", 0.0)
    throttle.record_failure("c", 11.0)  # the first failure fell out of the window
    assert throttle._clients["c"].blocked_until == 0.0
    throttle.record_failure("c", 12.0)
    assert throttle._clients["c"].blocked_until == 17.0


def test_tracked_clients_are_bounded() -> None:
    throttle = AuthThrottle(max_failures=5, window_s=10, block_s=5, max_clients=100)
    for i in range(250):
        throttle.record_failure(f"client-{i}", float(i))
    assert len(throttle._clients) == 100 and "client-249" in throttle._clients
