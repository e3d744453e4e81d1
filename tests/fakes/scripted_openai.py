"""A fake OpenAI chat upstream that answers with exactly the text pieces a test scripts.

Streams send one ``chat.completion.chunk`` per scripted piece (so a test decides where
chunk boundaries fall), optionally with tool calls whose arguments arrive in scripted
pieces too, and can cut the SSE bytes themselves at a fixed size (events split across
TCP writes). Non-streamed calls answer with the pieces joined. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from .loopback import LoopbackServer, json_response


@dataclass
class Script:
    pieces: list[str] = field(default_factory=lambda: ["Hello", " there"])
    tool_calls: list[tuple[str, list[str]]] = field(default_factory=list)  # (name, argument pieces)
    write_size: int = 0  # >0: the SSE bytes go out in writes of this many bytes
    delay_s: float = 0.0  # between chunks
    echo_system: bool = False  # answer with the request's system prompt, in 7-character pieces


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    data = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1735689600,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return b"data: " + orjson.dumps(data) + b"\n\n"


class ScriptedOpenAI(LoopbackServer):
    """``script`` decides the next answers (set it before each call)."""

    def __init__(self) -> None:
        super().__init__()
        self.script = Script()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)

    def _events(self, s: Script) -> list[bytes]:
        events = [_chunk({"role": "assistant", "content": ""})]
        events += [_chunk({"content": piece}) for piece in s.pieces]
        for k, (name, parts) in enumerate(s.tool_calls):
            head = {
                "index": k,
                "id": f"call_{k}",
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            events.append(_chunk({"tool_calls": [head]}))
            events += [_chunk({"tool_calls": [{"index": k, "function": {"arguments": p}}]}) for p in parts]
        events.append(_chunk({}, "tool_calls" if s.tool_calls else "stop"))
        events.append(b"data: [DONE]\n\n")
        return events

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        s = self.script
        if s.echo_system:
            system = next((m["content"] for m in body["messages"] if m.get("role") == "system"), "")
            s = Script(pieces=[system[i : i + 7] for i in range(0, len(system), 7)])
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": "".join(s.pieces) or None}
            if s.tool_calls:
                message["tool_calls"] = [
                    {"id": f"call_{k}", "type": "function", "function": {"name": n, "arguments": "".join(a)}}
                    for k, (n, a) in enumerate(s.tool_calls)
                ]
            choice = {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if s.tool_calls else "stop",
            }
            return json_response(
                {
                    "id": "chatcmpl-scripted",
                    "object": "chat.completion",
                    "created": 1735689600,
                    "model": "scripted",
                    "choices": [choice],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
                }
            )
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        # The gateway may cut the stream (a guard blocked it) and close the connection.
        with contextlib.suppress(ConnectionResetError):
            await self._write(response, s)
        return response

    async def _write(self, response: web.StreamResponse, s: Script) -> None:
        data = b"".join(self._events(s)) if s.write_size else b""
        if s.write_size:
            for at in range(0, len(data), s.write_size):
                await response.write(data[at : at + s.write_size])
                await asyncio.sleep(s.delay_s or 0.001)  # separate TCP writes, separate reads
        else:
            for event in self._events(s):
                await response.write(event)
                if s.delay_s:
                    await asyncio.sleep(s.delay_s)
        await response.write_eof()
