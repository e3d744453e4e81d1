"""Sampling and elicitation for 2026-07-28 callers, which have no back-channel.

When an upstream asks the caller something in the middle of a call, the call is held: the
caller gets an ``input_required`` result naming the requests (``inputRequests``) and a
``requestState``; the upstream keeps waiting. The caller retries the same request with
``inputResponses`` and that ``requestState``; the answers go to the upstream and the gateway
waits again — for the result, or for the next question. A held call belongs to the
principal that started it and is dropped once it ends or its questions time out.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from dataclasses import dataclass, field
from typing import Any

from tollhouse.mcp.protocol import INTERNAL_ERROR, INVALID_PARAMS, RpcError
from tollhouse.mcp.sessions import Channel

STATE_PREFIX = "th1."
_KEYS = itertools.count(1)


class HeldChannel(Channel):
    """A channel whose requests to the caller wait for the caller's next retry."""

    def __init__(self, streams: bool, ask_timeout_s: float, capabilities: dict[str, Any]) -> None:
        super().__init__(None, streams, ask_timeout_s)
        self.capabilities = capabilities
        self.questions: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def can(self, capability: str) -> bool:
        return isinstance(self.capabilities.get(capability), dict)

    async def ask(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        key = f"q{next(_KEYS)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        self.questions.put_nowait((key, {"method": method, "params": params or {}}))
        try:
            async with asyncio.timeout(self._timeout):
                return await future
        except TimeoutError:
            raise RpcError(INTERNAL_ERROR, f"the caller did not answer {method} in time") from None
        finally:
            self.waiting.pop(key, None)

    def answer(self, responses: Any) -> None:
        """The caller's ``inputResponses``: each one resolves the question it names."""
        given = responses if isinstance(responses, dict) else {}
        for key, future in list(self.waiting.items()):
            if future.done():
                continue
            if isinstance(given.get(key), dict):
                future.set_result(given[key])
            else:
                future.set_exception(RpcError(INTERNAL_ERROR, "the caller gave no answer"))


@dataclass(slots=True)
class Held:
    """A call waiting for its caller's answers: who may resume it, and how."""

    owner: str
    method: str
    task: asyncio.Future[dict[str, Any]]
    channel: HeldChannel
    id: str = field(default_factory=lambda: os.urandom(16).hex())


class HeldCalls:
    """The calls of this process waiting for their callers' answers."""

    def __init__(self) -> None:
        self._held: dict[str, Held] = {}

    def resume(self, state: Any, owner: str, method: str, responses: Any) -> Held:
        """The held call a retry names (answered), or invalid params."""
        held = self._held.pop(state[len(STATE_PREFIX) :], None) if isinstance(state, str) else None
        if held is None or held.owner != owner or held.method != method or held.task.done():
            raise RpcError(INVALID_PARAMS, "unknown or expired requestState")
        held.channel.answer(responses)
        return held

    async def next(self, held: Held) -> dict[str, Any]:
        """The call's result, or an ``input_required`` result when it has questions first."""
        questions = held.channel.questions
        getter = asyncio.ensure_future(questions.get())
        try:
            pending: set[asyncio.Future[Any]] = {held.task, getter}
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            held.task.cancel()  # the caller went away before the call was parked
            raise
        finally:
            getter.cancel()
        if held.task.done():  # questions it asked before it ended are moot
            return held.task.result()
        asked = dict([getter.result()])
        while not questions.empty():
            key, request = questions.get_nowait()
            asked[key] = request
        self._park(held)
        return {
            "resultType": "input_required",
            "inputRequests": asked,
            "requestState": STATE_PREFIX + held.id,
        }

    def _park(self, held: Held) -> None:
        self._held[held.id] = held

        def forget(_: asyncio.Future[dict[str, Any]]) -> None:
            self._held.pop(held.id, None)

        held.task.add_done_callback(forget)

    def close(self) -> None:
        for held in list(self._held.values()):
            held.task.cancel()
        self._held.clear()
