"""External guards: the segments POSTed as JSON to a webhook, its verdict read back.

Request: ``{"guard", "stage", "request_id", "model", "principal", "segments": [{"index",
"scope", "text"}]}``. Answer: ``{"action": "allow|block|redact|flag", "reason", "score",
"findings": [{"segment", "start", "end", "kind", "replacement"?}]}``. The answer's action is
taken as given, except that a guard configured ``action: flag`` only ever flags. A timeout,
a transport error, a non-2xx status or an answer that breaks the contract raise
``WebhookFailed``; the policy's fail mode decides what that means.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from tollhouse.config.secrets import Secret
from tollhouse.guards.verdict import Action, Finding, Hit, Verdict
from tollhouse.guards.view import TextView
from tollhouse.upstream.pool import UpstreamPool

_ACTIONS = {a.value: a for a in Action}


class WebhookFailed(Exception):
    """The webhook gave no usable verdict (message names why, never the payload)."""


@dataclass(frozen=True, slots=True)
class CallInfo:
    """Who and what a webhook is told about (ids only, never a credential)."""

    request_id: str
    model: str
    principal: dict[str, Any] | None


class WebhookClient:
    """One configured webhook: its URL, headers, timeout and the shared connection pool."""

    def __init__(self, url: str, headers: dict[str, Secret], timeout_ms: int, pool: UpstreamPool) -> None:
        self._url = url
        self._headers = {"content-type": "application/json", **{k: v.reveal() for k, v in headers.items()}}
        self._timeout = timeout_ms / 1000
        self._pool = pool

    async def check(self, guard: str, stage: str, view: TextView, info: CallInfo, flag_only: bool) -> Verdict:
        body = orjson.dumps(
            {
                "guard": guard,
                "stage": stage,
                "request_id": info.request_id,
                "model": info.model,
                "principal": info.principal,
                "segments": [
                    {"index": i, "scope": s.scope.value, "text": s.text} for i, s in enumerate(view.segments)
                ],
            }
        )
        session = self._pool.session(self._url, 100)
        try:
            async with asyncio.timeout(self._timeout):
                async with session.post(self._url, data=body, headers=self._headers) as response:
                    data = await response.read()
                    status = response.status
        except TimeoutError:
            raise WebhookFailed(f"webhook guard {guard} timed out") from None
        except aiohttp.ClientError as exc:
            raise WebhookFailed(f"webhook guard {guard} unreachable: {type(exc).__name__}") from None
        if status >= 300:
            raise WebhookFailed(f"webhook guard {guard} answered HTTP {status}")
        return _verdict(guard, data, len(view.segments), view, flag_only)


def _verdict(guard: str, data: bytes, segments: int, view: TextView, flag_only: bool) -> Verdict:
    try:
        answer = orjson.loads(data)
        action = _ACTIONS[answer["action"]]
        hits = tuple(_hit(f, segments, view) for f in answer.get("findings") or ())
        score = float(answer.get("score") or (1.0 if action is not Action.ALLOW else 0.0))
        reason = str(answer.get("reason") or "")[:200]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise WebhookFailed(f"webhook guard {guard} broke the contract: {type(exc).__name__}") from None
    if action is Action.REDACT and not hits:
        raise WebhookFailed(f"webhook guard {guard} asked to redact without findings")
    if flag_only and action is not Action.ALLOW:
        action = Action.FLAG
    return Verdict(guard, action, reason or action.value, score, hits)


def _hit(raw: dict[str, Any], segments: int, view: TextView) -> Hit:
    index, start, end = int(raw["segment"]), int(raw["start"]), int(raw["end"])
    if not 0 <= index < segments or not 0 <= start < end <= len(view.segments[index].text):
        raise ValueError("finding out of range")
    replacement = raw.get("replacement")
    finding = Finding(
        str(raw.get("kind") or "WEBHOOK"),
        start,
        end,
        float(raw.get("score") or 1.0),
        str(replacement) if replacement is not None else None,
    )
    return Hit(index, finding)
