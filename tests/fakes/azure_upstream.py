"""A local fake of Azure OpenAI: deployment URLs with ``api-version`` (and the v1 API).

OpenAI's Chat Completions format with Azure's additions: ``api-key`` auth (or an Entra
``Bearer`` token), a required ``api-version`` query, ``prompt_filter_results`` in a first
stream chunk with no choices, ``content_filter_results`` on choices, usage in the last chunk
when ``stream_options.include_usage`` is set. The deployment name ``filtered`` answers
Azure's content-filter 400; ``error-NNN`` answers that status.
Reference: https://learn.microsoft.com/azure/ai-foundry/openai/reference.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from .loopback import LoopbackServer, json_response
from .scripted_reply import Plan, openai_content_text, pieces, plan, tool_results

FILTERS = {
    "hate": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}


def _error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return json_response(
        {"error": {"code": code, "message": message, "param": None, "type": None, **extra}}, status
    )


def _plan(body: dict[str, Any]) -> Plan:
    messages = body["messages"]
    results = tool_results(messages)
    text = next((openai_content_text(m["content"]) for m in reversed(messages) if m["role"] == "user"), "")
    tools = [(t["function"]["name"], t["function"].get("parameters")) for t in body.get("tools") or []]
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") if fmt.get("type") == "json_schema" else None
    return plan(text, tools, results, schema, prompt_words=len(orjson.dumps(messages)) // 4)


def _message(reply: Plan) -> dict[str, Any]:
    calls = [{"id": c, "type": "function", "function": {"name": n, "arguments": orjson.dumps(a).decode()}}
             for c, n, a in reply.calls]  # fmt: skip
    return {"role": "assistant", "content": reply.text, **({"tool_calls": calls} if calls else {})}


class FakeAzure(LoopbackServer):
    """Fake Azure OpenAI resource; ``credential`` is the api-key (or bearer token) it accepts."""

    def __init__(self, credential: str, bearer: bool = False) -> None:
        super().__init__()
        self.credential, self.bearer = credential, bearer

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/openai/deployments/{deployment}/{operation:.+}", self._deployment)
        app.router.add_post("/openai/v1/{operation:.+}", self._v1)

    def _auth_problem(self, request: web.Request) -> web.Response | None:
        given = request.headers.get("authorization") if self.bearer else request.headers.get("api-key")
        expected = f"Bearer {self.credential}" if self.bearer else self.credential
        if given != expected:
            return _error(401, "401", "Access denied due to invalid subscription key or wrong API endpoint.")
        return None

    async def _deployment(self, request: web.Request) -> web.StreamResponse:
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        if "api-version" not in request.query:
            return _error(404, "404", "Resource not found")
        return await self._answer(request, request.match_info["deployment"], request.match_info["operation"])

    async def _v1(self, request: web.Request) -> web.StreamResponse:
        problem = self._auth_problem(request)
        if problem is not None:
            return problem
        body = await request.json()
        return await self._answer(request, body["model"], request.match_info["operation"])

    async def _answer(self, request: web.Request, deployment: str, operation: str) -> web.StreamResponse:
        body = await request.json()
        if deployment.startswith("error-"):
            return _error(int(deployment[6:]), deployment[6:], f"scripted failure for {deployment}")
        if deployment == "filtered":
            inner = {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {"hate": {"filtered": True, "severity": "high"}},
            }
            return _error(
                400,
                "content_filter",
                "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
                innererror=inner,
            )
        if operation == "embeddings":
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [
                {"object": "embedding", "index": i, "embedding": [0.5, float(len(t))]}
                for i, t in enumerate(inputs)
            ]
            return json_response(
                {
                    "object": "list",
                    "data": data,
                    "model": deployment,
                    "usage": {"prompt_tokens": 4, "total_tokens": 4},
                }
            )
        reply = self.last_plan = _plan(body)
        finish = "tool_calls" if reply.calls else "stop"
        usage = {"prompt_tokens": reply.input_tokens, "completion_tokens": reply.output_tokens,
                 "total_tokens": reply.input_tokens + reply.output_tokens}  # fmt: skip
        base = {
            "id": "chatcmpl-azure-1",
            "created": 1700000000,
            "model": "gpt-4o-2024-11-20",
            "system_fingerprint": "fp_az",
        }
        if not body.get("stream"):
            choice = {"index": 0, "message": _message(reply), "finish_reason": finish, "logprobs": None,
                      "content_filter_results": FILTERS}  # fmt: skip
            prompt_filters = [{"prompt_index": 0, "content_filter_results": FILTERS}]
            return json_response(
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [choice],
                    "usage": usage,
                    "prompt_filter_results": prompt_filters,
                }
            )
        return await self._stream(request, body, base, reply, finish, usage)

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        base: dict[str, Any],
        reply: Plan,
        finish: str,
        usage: dict[str, int],
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        chunk = {**base, "object": "chat.completion.chunk"}

        async def send(data: dict[str, Any]) -> None:
            await response.write(b"data: " + orjson.dumps(data) + b"\n\n")

        await send({"id": "", "object": "", "created": 0, "model": "", "choices": [],
                    "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": FILTERS}]})  # fmt: skip
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        if reply.text is not None:
            deltas += [{"content": p} for p in pieces(reply.text, 5)]
        for i, (call_id, name, args) in enumerate(reply.calls):
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
            deltas += [
                {"tool_calls": [{"index": i, "function": {"arguments": p}}]}
                for p in pieces(orjson.dumps(args).decode(), 3)
            ]
        for delta in deltas:
            await send(
                {
                    **chunk,
                    "choices": [
                        {"index": 0, "delta": delta, "finish_reason": None, "content_filter_results": FILTERS}
                    ],
                }
            )
        await send({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({**chunk, "choices": [], "usage": usage})
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
