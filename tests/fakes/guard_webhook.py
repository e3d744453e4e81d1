"""A fake external guard: the webhook contract of docs/guardrails.md, answered by rules.

``POST /check``: ``block`` when a segment contains ``forbidden-word``; ``redact`` each
``secret-project`` (replacement ``[PROJECT]``); else ``allow``. ``POST /slow`` answers after
two seconds; ``POST /broken`` answers 200 with a body that breaks the contract.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .loopback import LoopbackServer, json_response


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    findings = []
    for segment in body["segments"]:
        text = segment["text"]
        if "forbidden-word" in text:
            return {"action": "block", "reason": "forbidden word", "score": 0.99}
        at = text.find("secret-project")
        while at >= 0:
            findings.append(
                {
                    "segment": segment["index"],
                    "start": at,
                    "end": at + 14,
                    "kind": "PROJECT",
                    "replacement": "[PROJECT]",
                }
            )
            at = text.find("secret-project", at + 1)
    if findings:
        return {"action": "redact", "reason": "project name", "findings": findings}
    return {"action": "allow"}


class GuardWebhook(LoopbackServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_post("/check", self._check)
        app.router.add_post("/slow", self._slow)
        app.router.add_post("/broken", self._broken)

    async def _check(self, request: web.Request) -> web.StreamResponse:
        return json_response(_answer(await request.json()))

    async def _slow(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)
        return json_response({"action": "allow"})

    async def _broken(self, request: web.Request) -> web.StreamResponse:
        return json_response({"verdict": "maybe"})
