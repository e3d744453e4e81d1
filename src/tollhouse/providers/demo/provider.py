"""The demo provider: canonical in, canonical out, no I/O."""

from __future__ import annotations

import asyncio
import hashlib
import math
import struct
import time
from collections.abc import AsyncGenerator

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret
from tollhouse.dialects.openai.decode import decode_embeddings
from tollhouse.model.chat import ChatResponse, Choice, Message, TokenLogprob, Usage
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.model.stream import Finish, StreamStart, TextDelta, ToolCallDelta, UsageReport
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.demo.answers import cut, estimate_tokens, prompt_tokens, reply_text, tool_calls
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem
from tollhouse.upstream.pool import UpstreamPool

_DEFAULT_DIMENSIONS = 16


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(parts)]


def _logprobs(text: str) -> tuple[TokenLogprob, ...]:
    return tuple(TokenLogprob(token=w, logprob=-0.01 * (i % 7)) for i, w in enumerate(_words(text)))


class DemoProvider:
    """Deterministic answers, streaming word by word, tool calls from the tools' schemas."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        self.name = name

    def _completion_id(self, ctx: RequestContext) -> str:
        return "chatcmpl-demo-" + hashlib.sha256(ctx.body).hexdigest()[:20]

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        request = ctx.chat_request()
        calls = tool_calls(request)
        choices = []
        completion = 0
        for i in range(request.n):
            if calls:
                message = Message(role="assistant", content=None, tool_calls=calls)
                finish = "tool_calls"
                completion += sum(estimate_tokens(c.arguments) for c in calls)
                logprobs = None
            else:
                text, finish = cut(reply_text(request, i), request)
                message = Message(role="assistant", content=text)
                completion += len(_words(text))
                logprobs = _logprobs(text) if request.logprobs else None
            choices.append(Choice(index=i, message=message, finish_reason=finish, logprobs=logprobs))  # type: ignore[arg-type]
        ctx.usage = Usage(prompt_tokens=prompt_tokens(request), completion_tokens=completion)
        ctx.first_byte_at = time.perf_counter()
        return ChatResponse(
            id=self._completion_id(ctx),
            model=model,
            created=int(time.time()),
            choices=tuple(choices),
            usage=ctx.usage,
            system_fingerprint="fp_tollhouse_demo",
        )

    async def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        request = ctx.chat_request()
        yield StreamStart(id=self._completion_id(ctx), model=model, created=int(time.time()))
        calls = tool_calls(request)
        completion = 0
        for i in range(request.n):
            if calls:
                for index, call in enumerate(calls):
                    yield ToolCallDelta(index=index, id=call.id, name=call.name, choice=i)
                    args = call.arguments
                    step = max(1, len(args) // 3)
                    for start in range(0, len(args), step):
                        yield ToolCallDelta(index=index, arguments=args[start : start + step], choice=i)
                    completion += estimate_tokens(args)
                yield Finish("tool_calls", choice=i)
                continue
            text, finish = cut(reply_text(request, i), request)
            for word in _words(text):
                yield TextDelta(word, choice=i, logprobs=_logprobs(word) if request.logprobs else None)
                completion += 1
                await asyncio.sleep(0)  # a real model yields between tokens; so does the demo
            yield Finish(finish, choice=i)  # type: ignore[arg-type]
        ctx.usage = Usage(prompt_tokens=prompt_tokens(request), completion_tokens=completion)
        yield UsageReport(ctx.usage)

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        request = decode_embeddings(ctx.payload)
        dims = request.dimensions or _DEFAULT_DIMENSIONS
        vectors = []
        tokens = 0
        for item in request.inputs:
            text = item if isinstance(item, str) else " ".join(map(str, item))
            tokens += estimate_tokens(text) if isinstance(item, str) else len(item)
            raw = b""
            counter = 0
            while len(raw) < dims * 4:
                raw += hashlib.sha256(f"{counter}:{text}".encode()).digest()
                counter += 1
            values = [v / 2**31 for v in struct.unpack(f"<{dims}i", raw[: dims * 4])]
            norm = math.sqrt(sum(v * v for v in values)) or 1.0
            vectors.append(tuple(v / norm for v in values))
        ctx.usage = Usage(prompt_tokens=tokens)
        return EmbeddingResponse(model=model, vectors=tuple(vectors), prompt_tokens=tokens)

    async def count_tokens(self, ctx: RequestContext, model: str) -> int:
        """The prompt's tokens as the demo counts them (the same number its usage reports)."""
        return prompt_tokens(ctx.chat_request())

    async def check(self) -> bool:
        return True
