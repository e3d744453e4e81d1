"""A local fake of Cohere's v2 API: ``/v2/chat`` (JSON and SSE) and ``/v2/embed``.

It rejects unknown fields and a tool message answering no earlier tool call, and answers
through ``scripted_reply`` in Cohere's shapes: ``tool_plan`` with tool calls, usage in
``billed_units`` and ``tokens``, the v2 stream events. Model ``error-NNN`` answers that
status. Reference: https://docs.cohere.com/reference/chat, https://docs.cohere.com/v2/docs/streaming.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from .loopback import LoopbackServer, json_response
from .scripted_reply import Plan, openai_content_text, pieces, plan, tool_results

_FIELDS = {"model", "messages", "stream", "tools", "tool_choice", "strict_tools", "response_format", "max_tokens",
           "temperature", "p", "k", "seed", "stop_sequences", "frequency_penalty", "presence_penalty", "logprobs",
           "thinking", "documents", "citation_options", "safety_mode"}  # fmt: skip


def _check(body: dict[str, Any]) -> str | None:
    extra = set(body) - _FIELDS
    if extra:
        return f"invalid request: unknown field: parameter {sorted(extra)[0]} is not a valid field"
    called: set[str] = set()
    for message in body["messages"]:
        called |= {c["id"] for c in message.get("tool_calls") or []}
        if message["role"] == "tool" and message["tool_call_id"] not in called:
            return "invalid request: tool message references an unknown tool call"
    return None


def _plan(body: dict[str, Any]) -> Plan:
    messages = body["messages"]
    results = tool_results(messages)
    text = next((openai_content_text(m["content"]) for m in reversed(messages) if m["role"] == "user"), "")
    tools = [(t["function"]["name"], t["function"].get("parameters")) for t in body.get("tools") or []]
    if body.get("tool_choice") == "NONE":
        tools = []
    schema = (body.get("response_format") or {}).get("json_schema")
    return plan(text, tools, results, schema, prompt_words=len(orjson.dumps(messages)) // 4)


def _usage(reply: Plan) -> dict[str, Any]:
    units = {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
    return {
        "billed_units": units,
        "tokens": {"input_tokens": reply.input_tokens + 50, "output_tokens": reply.output_tokens},
    }


class FakeCohere(LoopbackServer):
    """Fake Cohere upstream accepting ``Authorization: Bearer API_KEY``."""

    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/chat", self._chat)
        app.router.add_post("/v2/embed", self._embed)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return json_response({"id": "e-1", "message": "invalid api token"}, 401)
        return None

    async def _embed(self, request: web.Request) -> web.StreamResponse:
        denied = self._denied(request)
        if denied is not None:
            return denied
        body = await request.json()
        vectors = [[0.5, float(len(t))] for t in body["texts"]]
        return json_response({"id": "emb-1", "embeddings": {"float": vectors}, "texts": body["texts"],
                              "meta": {"billed_units": {"input_tokens": 7}}})  # fmt: skip

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        denied = self._denied(request)
        if denied is not None:
            return denied
        body = await request.json()
        if body["model"].startswith("error-"):
            return json_response(
                {"id": "e-2", "message": f"scripted failure for {body['model']}"}, int(body["model"][6:])
            )
        problem = _check(body)
        if problem is not None:
            return json_response({"id": "e-3", "message": problem}, 400)
        reply = self.last_plan = _plan(body)
        finish = "TOOL_CALL" if reply.calls else "COMPLETE"
        calls = [{"id": f"{n}_{c}", "type": "function", "function": {"name": n, "arguments": orjson.dumps(a).decode()}}
                 for c, n, a in reply.calls]  # fmt: skip
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant"}
            if calls:
                message.update(tool_plan="I will call the tools.", tool_calls=calls)
            else:
                message["content"] = [{"type": "text", "text": reply.text}]
            return json_response(
                {"id": "chat-1", "finish_reason": finish, "message": message, "usage": _usage(reply)}
            )
        return await self._stream(request, reply, calls, finish)

    async def _stream(
        self, request: web.Request, reply: Plan, calls: list[dict[str, Any]], finish: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)

        async def send(kind: str, **data: Any) -> None:
            await response.write(
                f"event: {kind}\ndata: ".encode() + orjson.dumps({"type": kind, **data}) + b"\n\n"
            )

        await send(
            "message-start",
            id="chat-1",
            delta={"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": []}},
        )
        if reply.text is not None:
            await send("content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}})
            for piece in pieces(reply.text, 5):
                await send("content-delta", index=0, delta={"message": {"content": {"text": piece}}})
            await send("content-end", index=0)
        else:
            await send("tool-plan-delta", delta={"message": {"tool_plan": "I will call the tools."}})
        for i, call in enumerate(calls):
            start = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
            await send("tool-call-start", index=i, delta={"message": {"tool_calls": start}})
            for piece in pieces(call["function"]["arguments"], 3):
                await send(
                    "tool-call-delta",
                    index=i,
                    delta={"message": {"tool_calls": {"function": {"arguments": piece}}}},
                )
            await send("tool-call-end", index=i)
        await send("message-end", delta={"finish_reason": finish, "usage": _usage(reply)})
        await response.write_eof()
        return response
