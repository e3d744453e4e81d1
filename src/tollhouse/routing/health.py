"""Active health checks: each target's upstream is probed in the background; a target whose
checks keep failing is skipped until one succeeds again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from tollhouse.background import stop_task
from tollhouse.pipeline.context import RequestContext
from tollhouse.routing.config import HealthCheckConfig
from tollhouse.routing.target import Target

log = logging.getLogger("tollhouse.routing")


class HealthChecker:
    """An observer (for its start/stop lifecycle) that checks every target's provider."""

    def __init__(self, targets: Sequence[Target], config: HealthCheckConfig) -> None:
        self._config = config
        # Providers are checked once each, however many targets (models) they serve.
        self._by_provider: dict[int, list[Target]] = {}
        for target in targets:
            self._by_provider.setdefault(id(target.provider), []).append(target)
        self._task: asyncio.Task[None] | None = None

    def observe(self, ctx: RequestContext) -> None:
        return None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="routing-health-checks")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._config.interval_s)
            await self.check_once()

    async def check_once(self) -> None:
        """Check every provider once and update its targets' health."""
        groups = list(self._by_provider.values())
        results = await asyncio.gather(*(g[0].provider.check() for g in groups), return_exceptions=True)
        for group, result in zip(groups, results, strict=True):
            ok = result is True
            for target in group:
                stats = target.stats
                if ok:
                    if not stats.healthy:
                        log.info("target %s is healthy again", target.id)
                    stats.failed_checks, stats.healthy = 0, True
                    continue
                stats.failed_checks += 1
                if stats.healthy and stats.failed_checks >= self._config.unhealthy_after:
                    log.warning("target %s failed %d health checks: skipped", target.id, stats.failed_checks)
                    stats.healthy = False
