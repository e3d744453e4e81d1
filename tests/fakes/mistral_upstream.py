"""A local fake of Mistral's chat API (``POST /v1/chat/completions``), JSON and SSE.

Mistral speaks OpenAI's Chat Completions with differences a translator can get wrong
(https://docs.mistral.ai/api/#tag/chat), and this fake enforces them: fields outside
Mistral's request schema are refused with 422 ``extra_forbidden`` (``seed`` — Mistral's is
``random_seed`` —, ``max_completion_tokens``, ``stream_options``, ``user``, ``logprobs``…),
tool call ids are 9 letters or digits and a tool message must answer one, usage comes in the
last stream chunk whether asked for or not, and tool calls stream whole. Errors use Mistral's
``{"object": "error", "message", "type", "param", "code"}`` body. Answers are planned as
FakeOpenAI plans them (``openai_chat.plan_chat``); model ``error-NNN`` answers that status.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from .loopback import LoopbackServer, json_response
from .openai_chat import ChatPlan, plan_chat
from .openai_payloads import CREATED, ApiError, split_tokens

FIELDS = frozenset({
    "model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed",
    "metadata", "response_format", "tools", "tool_choice", "presence_penalty", "frequency_penalty",
    "n", "prediction", "parallel_tool_calls", "prompt_mode", "safe_prompt",
})  # fmt: skip
_TOOL_ID = re.compile(r"[a-zA-Z0-9]{9}")
_TYPES = {400: "invalid_request_error", 401: "unauthorized", 404: "not_found", 422: "invalid_request_error",
          429: "rate_limited", 500: "internal_server_error"}  # fmt: skip


def _error(status: int, message: Any) -> web.Response:
    body = {"object": "error", "message": message, "type": _TYPES.get(status, "api_error"), "param": None,
            "code": None}  # fmt: skip
    return json_response(body, status)


def _problem(body: Any) -> web.Response | None:
    """Mistral's refusal of ``body``, or ``None``."""
    if not isinstance(body, dict):
        return _error(400, "Request body must be a JSON object")
    detail = [
        {"type": "extra_forbidden", "loc": ["body", key], "msg": "Extra inputs are not permitted", "input": body[key]}
        for key in sorted(set(body) - FIELDS)
    ]  # fmt: skip
    if detail:
        return _error(422, {"detail": detail})
    known: set[str] = set()
    for i, message in enumerate(body.get("messages") or []):
        for call in message.get("tool_calls") or []:
            if not _TOOL_ID.fullmatch(str(call.get("id"))):
                return _error(400, f"messages.{i}: Tool call id has to be a-z, A-Z, 0-9, with a length of 9.")
            known.add(call["id"])
        if message.get("role") == "tool" and message.get("tool_call_id") not in known:
            return _error(400, f"messages.{i}: Unexpected tool call id {message.get('tool_call_id')}")
    return None


def _usage(plan: ChatPlan) -> dict[str, int]:
    return {"prompt_tokens": plan.prompt_tokens, "completion_tokens": plan.completion_tokens,
            "total_tokens": plan.prompt_tokens + plan.completion_tokens}  # fmt: skip


def _message(plan: ChatPlan) -> dict[str, Any]:
    choice = plan.choices[0]
    calls = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}, "index": k}
             for k, c in enumerate(choice.tool_calls)]  # fmt: skip
    return {
        "role": "assistant",
        "content": choice.content or "",
        "tool_calls": calls or None,
        "prefix": False,
    }


class FakeMistral(LoopbackServer):
    """Fake Mistral upstream accepting ``Authorization: Bearer API_KEY``."""

    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self._seq = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)

    def plan(self, body: dict[str, Any]) -> ChatPlan:
        """The answer to ``body`` (deterministic: tests recompute it from the recorded request)."""
        plan = plan_chat(body, 1)
        for choice in plan.choices:
            for k, call in enumerate(choice.tool_calls):
                call.id = f"call{k:05d}"  # Mistral's ids: 9 letters or digits
        return plan

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return json_response({"message": "Unauthorized", "request_id": "fake-1"}, 401)
        body = await request.json()
        problem = _problem(body)
        if problem is not None:
            return problem
        if body["model"].startswith("error-"):
            return _error(int(body["model"][6:]), f"scripted failure for {body['model']}")
        try:
            plan = self.plan(body)
        except ApiError as err:
            return _error(err.status, err.message)
        head = {"id": "cmpl-fake-mistral", "created": CREATED, "model": body["model"]}
        if not body.get("stream"):
            choice = {"index": 0, "message": _message(plan), "finish_reason": plan.choices[0].finish_reason}
            return json_response(
                {**head, "object": "chat.completion", "choices": [choice], "usage": _usage(plan)}
            )
        return await self._stream(request, head, plan)

    async def _stream(self, request: web.Request, head: dict[str, Any], plan: ChatPlan) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        choice = plan.choices[0]
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        deltas += [{"content": token} for token in split_tokens(choice.content or "")]
        if choice.tool_calls:
            deltas.append({"tool_calls": _message(plan)["tool_calls"]})  # whole calls, in one chunk
        for i, delta in enumerate(deltas):
            last = i == len(deltas) - 1
            chunk: dict[str, Any] = {**head, "object": "chat.completion.chunk", "choices": [
                {"index": 0, "delta": delta, "finish_reason": choice.finish_reason if last else None}]}  # fmt: skip
            if last:
                chunk["usage"] = _usage(plan)  # with the last choices, never a chunk of its own
            await response.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
