"""Read the body under limits, decode its JSON once and check its shape for the surface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tollhouse.dialects.anthropic.validate import check_count_tokens, check_messages
from tollhouse.dialects.openai.validate import check_chat, check_embeddings
from tollhouse.dialects.openai_responses.validate import check_responses
from tollhouse.errors import InvalidRequest, TollhouseError
from tollhouse.http.body import read_body
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import Phase
from tollhouse.pipeline.policy import Policy

_CHECKERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "chat": check_chat,
    "embeddings": check_embeddings,
    "messages": check_messages,
    "count_tokens": check_count_tokens,
    "responses": check_responses,
}


class RequestValidation(Policy):
    """Body size limit (413), body deadline (408), JSON syntax and shape (400).

    It runs after authentication so an unauthenticated caller cannot make the gateway
    buffer and parse a large body.
    """

    name = "request_validation"
    phase = Phase.VALIDATE

    def __init__(self, max_body_bytes: int, body_timeout_s: float) -> None:
        self._limit = max_body_bytes
        self._timeout = body_timeout_s

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        try:
            ctx.body = await read_body(ctx.receive, ctx.headers, self._limit, self._timeout, ctx.inflight)
            if not ctx.body:
                raise InvalidRequest("request body is empty; expected a JSON object", code="invalid_json")
            try:
                payload = orjson.loads(ctx.body)
            except orjson.JSONDecodeError as exc:
                # orjson's message names the position (and invalid UTF-8) without echoing input.
                raise InvalidRequest(f"request body is not valid JSON: {exc}", code="invalid_json") from None
            if not isinstance(payload, dict):
                raise InvalidRequest("request body must be a JSON object", code="invalid_json")
            checker = _CHECKERS.get(ctx.surface)
            if checker is not None:
                ctx.model = checker(payload)
            ctx.payload = payload
            ctx.stream = payload.get("stream") is True
        except TollhouseError as error:
            return Deny(error, error.code or "invalid_request", self.name)
        return None
