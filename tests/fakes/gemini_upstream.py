"""A local fake of the Gemini API and of Gemini on Vertex AI: ``generateContent``,
``streamGenerateContent?alt=sse``, ``batchEmbedContents`` and Vertex ``predict``.

It rejects what the real API rejects and a translator can get wrong: unknown fields, roles
other than ``user``/``model``, schema keywords outside Gemini's subset, a function response
naming no earlier call, and — like Gemini 3 — a function call sent back without the
``thoughtSignature`` it was given. Model ``error-NNN`` answers that status with Google's
error body; model ``blocked`` answers a prompt blocked by safety. Wire format:
https://ai.google.dev/api/generate-content and https://ai.google.dev/api/embeddings.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from .loopback import LoopbackServer, json_response
from .scripted_reply import Plan, base64_note, pieces, plan

_TOP = {
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "generationConfig",
    "safetySettings",
    "cachedContent",
}
_SCHEMA_KEYS = {
    "type", "format", "description", "nullable", "enum", "properties", "required", "items", "anyOf",
    "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength", "pattern", "title", "propertyOrdering",
}  # fmt: skip
_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"}
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}  # fmt: skip
SIGNATURE = "CiQBVKhc7oZrpxL2Kbt1"
# What Google's docs tell clients to send for function calls Gemini 3 did not generate.
FOREIGN_SIGNATURES = ("context_engineering_is_the_way_to_go", "skip_thought_signature_validator")


def _error(code: int, message: str) -> web.Response:
    return json_response(
        {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}}, code
    )


def _schema_problem(schema: Any, path: str) -> str | None:
    if not isinstance(schema, dict):
        return f"{path}: schema must be an object"
    for key, value in schema.items():
        if key not in _SCHEMA_KEYS:
            return f"Invalid JSON payload received. Unknown name \"{key}\" at '{path}'"
        if key == "type" and value not in _TYPES:
            return f"{path}.type: invalid value {value!r}"
    for name, sub in (schema.get("properties") or {}).items():
        problem = _schema_problem(sub, f"{path}.properties[{name}]")
        if problem:
            return problem
    return _schema_problem(schema["items"], f"{path}.items") if "items" in schema else None


def _check(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for key in body:
        if key not in _TOP:
            return f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'
    called: set[str] = set()
    for i, content in enumerate(body.get("contents") or []):
        if content.get("role") not in ("user", "model"):
            return f"contents[{i}].role: Please use a valid role: user, model."
        for part in content.get("parts") or []:
            if "functionCall" in part:
                called.add(part["functionCall"]["name"])
                if (
                    part.get("thoughtSignature") not in (SIGNATURE, *FOREIGN_SIGNATURES)
                    and part["functionCall"]["name"] == "get_weather"
                ):
                    return f"contents[{i}]: Function call is missing a thought_signature"
            if "functionResponse" in part and part["functionResponse"]["name"] not in called:
                return f"contents[{i}]: function response names no function call"
    for tool in body.get("tools") or []:
        for decl in tool.get("functionDeclarations") or []:
            if "parameters" in decl:
                problem = _schema_problem(
                    decl["parameters"], f"tools.function_declarations[{decl['name']}].parameters"
                )
                if problem:
                    return problem
    return None


def _plan(body: dict[str, Any]) -> tuple[Plan, bool]:
    last = body["contents"][-1]["parts"]
    text = " ".join(
        p["text"] if "text" in p else base64_note(p["inlineData"]["data"])
        for p in last
        if "text" in p or "inlineData" in p
    )
    results = [str(p["functionResponse"]["response"].get("content")) for p in last if "functionResponse" in p]
    config = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    tools = [
        (d["name"], d.get("parameters"))
        for t in body.get("tools") or []
        for d in t.get("functionDeclarations") or []
        if config.get("mode") != "NONE" and d["name"] in config.get("allowedFunctionNames", [d["name"]])
    ]
    generation = body.get("generationConfig") or {}
    schema = generation.get("responseSchema")
    reply = plan(text, tools, results, schema, prompt_words=len(orjson.dumps(body["contents"])) // 4)
    if reply.text is not None and generation.get("responseMimeType") == "application/json" and schema is None:
        reply.text = orjson.dumps({"answer": reply.text}).decode()
    return reply, "thinkingConfig" in generation


def _usage(reply: Plan, thoughts: int) -> dict[str, Any]:
    usage = {"promptTokenCount": reply.input_tokens, "candidatesTokenCount": reply.output_tokens,
             "totalTokenCount": reply.input_tokens + reply.output_tokens + thoughts}  # fmt: skip
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _parts(reply: Plan) -> list[dict[str, Any]]:
    if reply.text is not None:
        return [{"text": reply.text}]
    parts: list[dict[str, Any]] = []
    for _, name, args in reply.calls:
        part: dict[str, Any] = {"functionCall": {"name": name, "args": args}}
        if name == "get_weather":
            part["thoughtSignature"] = SIGNATURE
        parts.append(part)
    return parts


class FakeGemini(LoopbackServer):
    """Fake Gemini (``api_key`` in ``x-goog-api-key``) and Vertex AI (``Bearer token``) upstream."""

    def __init__(self, api_key: str, vertex_token: str = "") -> None:
        super().__init__()
        self.api_key = api_key
        self.vertex_tokens = {vertex_token} if vertex_token else set()  # tests add minted tokens

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1beta/models/{call}", self._gemini)
        app.router.add_post(
            "/v1/projects/{project}/locations/{location}/publishers/google/models/{call}", self._vertex
        )

    async def _gemini(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("x-goog-api-key") != self.api_key:
            return json_response({"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT",
                                            "details": [{"reason": "API_KEY_INVALID"}]}}, 400)  # fmt: skip
        return await self._call(request)

    async def _vertex(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("authorization", "")
        if not (auth.startswith("Bearer ") and auth[7:] in self.vertex_tokens):
            return _error(401, "Request had invalid authentication credentials.")
        return await self._call(request)

    async def _call(self, request: web.Request) -> web.StreamResponse:
        model, _, method = request.match_info["call"].partition(":")
        body = await request.json()
        if model.startswith("error-"):
            return _error(int(model[6:]), f"scripted failure for {model}")
        if method == "batchEmbedContents":
            vectors = [
                {"values": [0.5, float(len(r["content"]["parts"][0]["text"]))]} for r in body["requests"]
            ]
            return json_response({"embeddings": vectors})
        if method == "predict":
            preds = [{"embeddings": {"values": [0.25, float(len(i["content"]))], "statistics": {"token_count": 3}}}
                     for i in body["instances"]]  # fmt: skip
            return json_response({"predictions": preds})
        problem = _check(body)
        if problem is not None:
            return _error(400, problem)
        if model == "blocked":
            return json_response({"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": model})
        reply, thinking = _plan(body)
        self.last_plan = reply
        thoughts = 21 if thinking else 0
        if method == "generateContent":
            candidate = {
                "content": {"role": "model", "parts": _parts(reply)},
                "finishReason": "STOP",
                "index": 0,
            }
            return json_response({"candidates": [candidate], "usageMetadata": _usage(reply, thoughts),
                                  "modelVersion": model, "responseId": "resp-fake-1"})  # fmt: skip
        if method == "streamGenerateContent" and request.query.get("alt") == "sse":
            return await self._stream(request, model, reply, thoughts)
        return _error(404, f"method {method} not found")

    async def _stream(
        self, request: web.Request, model: str, reply: Plan, thoughts: int
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        chunks: list[list[dict[str, Any]]] = (
            [[{"text": p}] for p in pieces(reply.text, 5)]
            if reply.text is not None
            else [[p] for p in _parts(reply)]
        )
        for i, parts in enumerate(chunks):
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
            if i == len(chunks) - 1:
                candidate["finishReason"] = "STOP"
            chunk = {"candidates": [candidate], "usageMetadata": _usage(reply, thoughts),
                     "modelVersion": model, "responseId": "resp-fake-1"}  # fmt: skip
            await response.write(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
        await response.write_eof()
        return response
