"""stop_task: cancels a background task and waits for it to unwind."""

from __future__ import annotations

import asyncio

from tollhouse.background import stop_task


def test_stop_task_cancels_and_waits_for_cleanup() -> None:
    cleaned: list[bool] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0)  # unwinding takes a loop turn: stop_task must wait for it
            cleaned.append(True)

    async def scenario() -> asyncio.Task[None]:
        task = asyncio.create_task(forever())
        await asyncio.sleep(0)
        await stop_task(task)
        await stop_task(None)  # nothing started: nothing to do
        return task

    task = asyncio.run(scenario())
    assert task.cancelled() and cleaned == [True]
