"""A local fake of Ollama's native API: ``/api/chat`` (JSON, or NDJSON when streaming) and
``/api/embed``. Tool call arguments are objects; a tool message names its tool in
``tool_name``; usage is ``prompt_eval_count`` / ``eval_count`` on the last (``done``) line.
Images arrive base64 in a message's ``images``; ``format`` asks for JSON (of a schema, or
``"json"``). Model ``missing`` answers Ollama's 404, ``error-NNN`` that status.
Reference: https://github.com/ollama/ollama/blob/main/docs/api.md.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from .loopback import LoopbackServer, json_response
from .scripted_reply import Plan, base64_note, pieces, plan, tool_results

_FIELDS = {"model", "messages", "stream", "tools", "format", "options", "think", "keep_alive"}


def _plan(body: dict[str, Any]) -> Plan:
    messages = body["messages"]
    results = tool_results(messages)
    user = next((m for m in reversed(messages) if m["role"] == "user"), {})
    text = " ".join([user.get("content", ""), *(base64_note(i) for i in user.get("images") or [])])
    tools = [(t["function"]["name"], t["function"].get("parameters")) for t in body.get("tools") or []]
    fmt = body.get("format")  # a JSON schema, or "json" for any JSON object
    words = len(orjson.dumps(messages)) // 4
    reply = plan(text.strip(), tools, results, fmt if isinstance(fmt, dict) else None, prompt_words=words)
    if fmt == "json" and reply.text is not None:
        reply.text = orjson.dumps({"answer": reply.text}).decode()
    return reply


class FakeOllama(LoopbackServer):
    """Fake Ollama server (no auth, as a local Ollama)."""

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/chat", self._chat)
        app.router.add_post("/api/embed", self._embed)

    async def _embed(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        vectors = [[0.5, float(len(t))] for t in body["input"]]
        return json_response({"model": body["model"], "embeddings": vectors, "prompt_eval_count": 3})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if set(body) - _FIELDS:
            return json_response({"error": f"invalid field {sorted(set(body) - _FIELDS)[0]}"}, 400)
        if body["model"] == "missing":
            return json_response({"error": 'model "missing" not found, try pulling it first'}, 404)
        if body["model"].startswith("error-"):
            return json_response({"error": f"scripted failure for {body['model']}"}, int(body["model"][6:]))
        for message in body["messages"]:
            if message["role"] == "tool" and "tool_name" not in message:
                return json_response({"error": "tool message without tool_name"}, 400)
        reply = self.last_plan = _plan(body)
        calls = [{"function": {"name": n, "arguments": a}} for _, n, a in reply.calls]
        final = {"model": body["model"], "created_at": "2025-06-01T10:00:00Z", "done": True, "done_reason": "stop",
                 "prompt_eval_count": reply.input_tokens, "eval_count": reply.output_tokens}  # fmt: skip
        if not body.get("stream", True):
            message = {
                "role": "assistant",
                "content": reply.text or "",
                **({"tool_calls": calls} if calls else {}),
            }
            return json_response({**final, "message": message})
        response = web.StreamResponse(headers={"content-type": "application/x-ndjson"})
        await response.prepare(request)
        lines: list[dict[str, Any]] = (
            [{"role": "assistant", "content": p} for p in pieces(reply.text, 5)] if reply.text else []
        )
        lines += [{"role": "assistant", "content": "", "tool_calls": [c]} for c in calls]
        for message in lines:
            await response.write(
                orjson.dumps({"model": body["model"], "message": message, "done": False}) + b"\n"
            )
        await response.write(orjson.dumps({**final, "message": {"role": "assistant", "content": ""}}) + b"\n")
        await response.write_eof()
        return response
