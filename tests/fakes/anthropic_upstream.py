"""A local fake of Anthropic's Messages API (``POST /v1/messages``), JSON and SSE.

It checks what the real API checks that a translator can get wrong — the ``x-api-key`` and
``anthropic-version`` headers, required ``max_tokens``, known top-level fields only, user/
assistant alternation, every ``tool_result`` answering a ``tool_use`` of the turn before —
and answers with ``scripted_reply`` (``output_config.format`` asks for JSON of a schema:
https://docs.claude.com/en/docs/build-with-claude/structured-outputs). Model ``error-NNN``
answers that status with Anthropic's error body. Wire format:
https://docs.anthropic.com/en/api/messages and https://docs.anthropic.com/en/api/messages-streaming.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from .loopback import LoopbackServer, json_response
from .scripted_reply import Plan, base64_note, pieces, plan

_FIELDS = {
    "model", "max_tokens", "messages", "system", "stop_sequences", "temperature", "top_p", "top_k",
    "stream", "tools", "tool_choice", "thinking", "metadata", "service_tier", "container", "mcp_servers",
    "output_config",
}  # fmt: skip
_COUNT_FIELDS = {"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers",
                 "output_config"}  # fmt: skip
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}  # fmt: skip


def _error(status: int, message: str) -> web.Response:
    kind = _ERROR_TYPES.get(status, "api_error")
    return json_response({"type": "error", "error": {"type": kind, "message": message}}, status)


def _check(body: Any) -> str | None:
    """What the real API would reject in ``body``, or ``None``."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    extra = set(body) - _FIELDS
    if extra:
        return f"{sorted(extra)[0]}: Extra inputs are not permitted"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    previous_uses: set[str] = set()
    for i, message in enumerate(messages):
        if message.get("role") != ("user" if i % 2 == 0 else "assistant"):
            return f"messages.{i}: roles must alternate between user and assistant, starting with user"
        blocks = message.get("content")
        blocks = [{"type": "text", "text": blocks}] if isinstance(blocks, str) else blocks
        for block in blocks:
            if block.get("type") == "tool_result" and block.get("tool_use_id") not in previous_uses:
                return f"messages.{i}: tool_result block(s) without a matching tool_use"
        previous_uses = {b["id"] for b in blocks if b.get("type") == "tool_use"}
    return None


def _plan(body: dict[str, Any]) -> Plan:
    last = body["messages"][-1]
    blocks = (
        last["content"] if isinstance(last["content"], list) else [{"type": "text", "text": last["content"]}]
    )
    text = " ".join(t for b in blocks if (t := _block_text(b)) is not None)
    results = [
        r["content"] if isinstance(r["content"], str) else " ".join(c.get("text", "") for c in r["content"])
        for r in blocks
        if r.get("type") == "tool_result"
    ]
    tools = [(t["name"], t.get("input_schema")) for t in body.get("tools") or []]
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool":
        tools = [t for t in tools if t[0] == choice.get("name")]
    elif choice.get("type") == "none":
        tools = []
    words = len(orjson.dumps(body["messages"])) // 4
    fmt = (body.get("output_config") or {}).get("format") or {}
    schema = fmt.get("schema") if fmt.get("type") == "json_schema" else None
    return plan(text, tools, results, schema, prompt_words=words)


def _block_text(block: dict[str, Any]) -> str | None:
    """A user block as the fake reads it: text, or an image named by ``base64_note``."""
    if block.get("type") == "text":
        return str(block.get("text", ""))
    if block.get("type") == "image":
        source = block.get("source") or {}
        return (
            base64_note(source.get("data", ""))
            if source.get("type") == "base64"
            else f"[image {source.get('url')}]"
        )
    return None


def _content(reply: Plan) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if reply.text is not None:
        content.append({"type": "text", "text": reply.text})
    for call_id, name, args in reply.calls:
        content.append({"type": "tool_use", "id": f"toolu_{call_id}", "name": name, "input": args})
    return content


class FakeAnthropic(LoopbackServer):
    """Fake Anthropic upstream; ``requests`` records what the gateway sent."""

    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)

    async def _count_tokens(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("x-api-key") != self.api_key:
            return _error(401, "invalid x-api-key")
        body = await request.json()
        extra = set(body) - _COUNT_FIELDS
        if extra:
            return _error(400, f"{sorted(extra)[0]}: Extra inputs are not permitted")
        return json_response({"input_tokens": len(orjson.dumps(body["messages"])) // 4})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("x-api-key") != self.api_key:
            return _error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _error(400, "anthropic-version: header is required")
        body = await request.json()
        problem = _check(body)
        if problem is not None:
            return _error(400, problem)
        model = body["model"]
        if model.startswith("error-"):
            return _error(int(model[6:]), f"scripted failure for {model}")
        reply = self.last_plan = _plan(body)
        stop = "tool_use" if reply.calls else "end_turn"
        usage = {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
        if not body.get("stream"):
            message = {"id": "msg_fake01", "type": "message", "role": "assistant", "model": model,
                       "content": _content(reply), "stop_reason": stop, "stop_sequence": None, "usage": usage}  # fmt: skip
            return json_response(message)
        return await self._stream(request, model, reply, stop)

    async def _stream(self, request: web.Request, model: str, reply: Plan, stop: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)

        async def send(kind: str, data: dict[str, Any]) -> None:
            await response.write(
                b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **data}) + b"\n\n"
            )

        start = {"id": "msg_fake01", "type": "message", "role": "assistant", "model": model, "content": [],
                 "stop_reason": None, "stop_sequence": None,
                 "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1}}  # fmt: skip
        await send("message_start", {"message": start})
        await send("ping", {})
        index = 0
        if reply.text is not None:
            await send("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            for piece in pieces(reply.text, 6):
                await send(
                    "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}}
                )
            await send("content_block_stop", {"index": 0})
            index = 1
        for call_id, name, args in reply.calls:
            block = {"type": "tool_use", "id": f"toolu_{call_id}", "name": name, "input": {}}
            await send("content_block_start", {"index": index, "content_block": block})
            for piece in pieces(orjson.dumps(args).decode(), 3):
                delta = {"type": "input_json_delta", "partial_json": piece}
                await send("content_block_delta", {"index": index, "delta": delta})
            await send("content_block_stop", {"index": index})
            index += 1
        delta = {
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        }
        await send("message_delta", delta)
        await send("message_stop", {})
        await response.write_eof()
        return response
