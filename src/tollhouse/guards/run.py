"""Running a stage's guards over a view: verdicts, latencies, and errors kept apart.

Local guards run one after another (they are microseconds each), a model-backed one in a
worker thread; webhook guards run concurrently. A guard that raises is reported with its error, never as a pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from tollhouse.guards.detector import CallState
from tollhouse.guards.guard import AnyGuard, Guard, RemoteGuard
from tollhouse.guards.verdict import Scope, Verdict
from tollhouse.guards.view import TextView
from tollhouse.guards.webhook import CallInfo, WebhookFailed

log = logging.getLogger("tollhouse.guards")


@dataclass(frozen=True, slots=True)
class Ran:
    """One guard at one stage: the segments it read, its verdict or its error, its latency."""

    guard: AnyGuard
    view: TextView
    verdict: Verdict | None
    latency_us: int
    error: str | None = None
    oversize: int = 0  # not run: the text had this many characters, more than the stage reads


def _local(guard: Guard, view: TextView, state: CallState) -> Ran:
    started = time.perf_counter()
    try:
        verdict = guard.check(view, state)
    except Exception as exc:  # a detector bug must not pass as "allowed"
        log.exception("guard %s failed", guard.id)
        return Ran(guard, view, None, _since(started), f"{type(exc).__name__} in guard {guard.id}")
    return Ran(guard, view, verdict, _since(started))


async def _remote(guard: RemoteGuard, stage: str, view: TextView, info: CallInfo) -> Ran:
    started = time.perf_counter()
    try:
        verdict = await guard.check(stage, view, info)
    except WebhookFailed as exc:
        return Ran(guard, view, None, _since(started), str(exc))
    return Ran(guard, view, verdict, _since(started))


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1_000_000)


async def run_stage(
    guards: tuple[AnyGuard, ...],
    stage: str,
    view: TextView,
    state: CallState,
    info: CallInfo,
    max_chars: int | None = None,
) -> list[Ran]:
    """Every guard that reads something at ``stage``; guards with nothing to read are skipped,
    and guards with more than ``max_chars`` to read are not run (``Ran.oversize``)."""
    ran: list[Ran] = []
    remote: list[tuple[RemoteGuard, TextView]] = []
    views: dict[frozenset[Scope], TextView] = {}  # guards mostly read the same scopes
    for guard in guards:
        scopes = guard.scopes_for(stage)
        if not scopes:
            continue
        sub = views.get(scopes)
        if sub is None:
            sub = views[scopes] = view.of(scopes)
        if not sub.segments:
            continue
        if max_chars is not None and (chars := sub.chars) > max_chars:
            why = f"not run: {chars} characters to read, more than max_scan_chars ({max_chars})"
            ran.append(Ran(guard, sub, None, 0, why, oversize=chars))
            continue
        if isinstance(guard, RemoteGuard):
            remote.append((guard, sub))
        elif guard.offload:
            ran.append(await asyncio.to_thread(_local, guard, sub, state))
        else:
            ran.append(_local(guard, sub, state))
    if remote:
        ran += await asyncio.gather(*(_remote(g, stage, sub, info) for g, sub in remote))
    return ran
