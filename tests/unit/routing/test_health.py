"""Active health checks mark a target down after repeated failures and up after one success."""

from __future__ import annotations

from tests.unit.routing.doubles import ScriptedProvider, target
from tollhouse.routing.config import HealthCheckConfig
from tollhouse.routing.health import HealthChecker


async def test_checks_mark_targets_down_and_up_again() -> None:
    provider = ScriptedProvider("a")
    t1, t2 = target(provider, "m1"), target(provider, "m2")
    checker = HealthChecker([t1, t2], HealthCheckConfig(unhealthy_after=2))
    provider.healthy = False
    await checker.check_once()
    assert t1.stats.healthy and t1.stats.failed_checks == 1  # one failure is not enough
    await checker.check_once()
    assert not t1.stats.healthy and not t2.stats.healthy and not t1.available()
    provider.healthy = True
    await checker.check_once()
    assert t1.stats.healthy and t2.stats.healthy and t1.stats.failed_checks == 0


async def test_a_check_that_raises_counts_as_failed() -> None:
    provider = ScriptedProvider("a")

    async def broken() -> bool:
        raise OSError("no route")

    provider.check = broken  # type: ignore[method-assign]
    t = target(provider)
    checker = HealthChecker([t], HealthCheckConfig(unhealthy_after=1))
    await checker.check_once()
    assert not t.stats.healthy


async def test_start_and_stop_leave_no_task_behind() -> None:
    import asyncio

    checker = HealthChecker([target(ScriptedProvider("a"))], HealthCheckConfig(interval_s=0.01))
    before = len(asyncio.all_tasks())
    await checker.start()
    await asyncio.sleep(0.05)
    await checker.stop()
    assert len(asyncio.all_tasks()) == before
