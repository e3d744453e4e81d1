"""A local fake of the Bedrock runtime: Converse, ConverseStream (binary event stream) and
InvokeModel for Titan and Cohere embeddings.

Every request's SigV4 signature is verified with an implementation written here from the
AWS specification (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
independent of the botocore signer the gateway uses. Converse bodies are checked for unknown
fields, alternation, and ``toolResult`` ids answering the previous turn's ``toolUse``.
Model ``error-NNN`` answers that status with ``x-amzn-ErrorType``; model ``throttled-stream``
sends a ``throttlingException`` mid-stream.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

import orjson
from aiohttp import web

from .aws_eventstream import event, exception
from .loopback import LoopbackServer, json_response
from .scripted_reply import Plan, base64_note, pieces, plan

_FIELDS = {"messages", "system", "inferenceConfig", "toolConfig", "additionalModelRequestFields",
           "guardrailConfig", "promptVariables", "requestMetadata", "performanceConfig"}  # fmt: skip
_IMAGE_FORMATS = {"png", "jpeg", "gif", "webp"}
_ERRORS = {400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
           429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException"}  # fmt: skip


def _error(status: int, kind: str, message: str) -> web.Response:
    headers = {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    return json_response({"message": message}, status, headers)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signature_problem(request: web.Request, body: bytes, key_id: str, secret: str, region: str) -> str | None:
    """Why the request's SigV4 signature is wrong, or ``None`` when it verifies."""
    auth = request.headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "missing SigV4 authorization"
    fields = dict(item.strip().split("=", 1) for item in auth[len("AWS4-HMAC-SHA256 ") :].split(","))
    access, date, scope_region, service, _ = fields["Credential"].split("/")
    if (access, scope_region, service) != (key_id, region, "bedrock"):
        return "credential scope does not match"
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        return "host and x-amz-date must be signed"
    canonical_headers = "".join(f"{h}:{' '.join(request.headers.get(h, '').split())}\n" for h in signed)
    canonical = "\n".join([
        request.method,
        quote(request.raw_path.split("?")[0], safe="/~"),
        "",
        canonical_headers,
        ";".join(signed),
        hashlib.sha256(body).hexdigest(),
    ])  # fmt: skip
    scope = f"{date}/{region}/bedrock/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", request.headers["x-amz-date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])  # fmt: skip
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), "bedrock"), "aws4_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        None
        if hmac.compare_digest(expected, fields["Signature"])
        else "The request signature we calculated does not match"
    )


def _check(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    extra = set(body) - _FIELDS
    if extra:
        return f"Malformed input request: extraneous key [{sorted(extra)[0]}] is not permitted"
    uses: set[str] = set()
    for i, message in enumerate(body.get("messages") or []):
        if message.get("role") != ("user" if i % 2 == 0 else "assistant"):
            return "A conversation must alternate between user and assistant roles."
        for block in message["content"]:
            if "image" in block and block["image"].get("format") not in _IMAGE_FORMATS:
                return f"messages.{i}: image format must be one of {sorted(_IMAGE_FORMATS)}"
            if "toolResult" in block and block["toolResult"]["toolUseId"] not in uses:
                return f"The toolResult blocks at messages.{i} do not match the toolUse blocks"
        uses = {b["toolUse"]["toolUseId"] for b in message["content"] if "toolUse" in b}
    if uses and not body.get("toolConfig"):
        return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    return None


def _plan(body: dict[str, Any]) -> Plan:
    last = body["messages"][-1]["content"]
    text = " ".join(
        b["text"] if "text" in b else base64_note(b["image"]["source"].get("bytes", ""))
        for b in last
        if "text" in b or "image" in b
    )
    results = [
        " ".join(c.get("text", "") for c in b["toolResult"]["content"]) for b in last if "toolResult" in b
    ]
    config = body.get("toolConfig") or {}
    forced = (config.get("toolChoice") or {}).get("tool")
    tools = [
        (t["toolSpec"]["name"], t["toolSpec"]["inputSchema"]["json"])
        for t in config.get("tools") or []
        if "toolSpec" in t and (forced is None or t["toolSpec"]["name"] == forced["name"])
    ]
    return plan(text, tools, results, prompt_words=len(orjson.dumps(body["messages"])) // 4)


def _content(reply: Plan) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = [{"text": reply.text}] if reply.text is not None else []
    content += [{"toolUse": {"toolUseId": f"tooluse_{c}", "name": n, "input": a}} for c, n, a in reply.calls]
    return content


class FakeBedrock(LoopbackServer):
    """Fake Bedrock runtime for one account (``key_id``/``secret``) in ``region``."""

    def __init__(self, key_id: str, secret: str, region: str) -> None:
        super().__init__()
        self.key_id, self.secret, self.region = key_id, secret, region

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/model/{model}/{action}", self._model)

    async def _model(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        problem = signature_problem(request, raw, self.key_id, self.secret, self.region)
        if problem is not None:
            return _error(403, "InvalidSignatureException", problem)
        model, action, body = request.match_info["model"], request.match_info["action"], orjson.loads(raw)
        if model.startswith("error-"):
            status = int(model[6:])
            return _error(
                status, _ERRORS.get(status, "InternalServerException"), f"scripted failure for {model}"
            )
        if action == "invoke":
            return self._embed(model, body)
        problem = _check(body)
        if problem is not None:
            return _error(400, "ValidationException", problem)
        reply = self.last_plan = _plan(body)
        stop = "tool_use" if reply.calls else "end_turn"
        usage = {"inputTokens": reply.input_tokens, "outputTokens": reply.output_tokens,
                 "totalTokens": reply.input_tokens + reply.output_tokens}  # fmt: skip
        if action == "converse":
            output = {"message": {"role": "assistant", "content": _content(reply)}}
            return json_response(
                {"output": output, "stopReason": stop, "usage": usage, "metrics": {"latencyMs": 5}}
            )
        return await self._stream(request, model, reply, stop, usage)

    def _embed(self, model: str, body: dict[str, Any]) -> web.Response:
        if model.startswith("cohere."):
            vectors = [[0.5, float(len(t))] for t in body["texts"]]
            return json_response({"id": "emb-1", "texts": body["texts"], "embeddings": {"float": vectors}})
        text = body["inputText"]
        return json_response({"embedding": [0.5, float(len(text))], "inputTextTokenCount": len(text.split())})

    async def _stream(
        self, request: web.Request, model: str, reply: Plan, stop: str, usage: dict[str, int]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/vnd.amazon.eventstream"})
        await response.prepare(request)
        frames = [event("messageStart", {"role": "assistant"})]
        index = 0
        if reply.text is not None:
            frames += [
                event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": p}})
                for p in pieces(reply.text, 6)
            ]
            frames.append(event("contentBlockStop", {"contentBlockIndex": 0}))
            index = 1
        if model == "throttled-stream":
            frames.append(
                exception("throttlingException", "Too many requests, please wait before trying again.")
            )
        for call_id, name, args in reply.calls:
            start = {"toolUse": {"toolUseId": f"tooluse_{call_id}", "name": name}}
            frames.append(event("contentBlockStart", {"contentBlockIndex": index, "start": start}))
            frames += [event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": p}}})
                       for p in pieces(orjson.dumps(args).decode(), 3)]  # fmt: skip
            frames.append(event("contentBlockStop", {"contentBlockIndex": index}))
            index += 1
        frames += [
            event("messageStop", {"stopReason": stop}),
            event("metadata", {"usage": usage, "metrics": {"latencyMs": 5}}),
        ]
        for frame in frames:
            await response.write(frame)
        await response.write_eof()
        return response
