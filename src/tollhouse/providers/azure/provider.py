"""The Azure OpenAI provider: OpenAI callers on the passthrough lane, others translated."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator
from contextlib import aclosing

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret
from tollhouse.errors import InvalidRequest, UpstreamUnavailable
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.azure.errors import map_error
from tollhouse.providers.azure.request import DEFAULT_API_VERSION, AzureTarget
from tollhouse.providers.azure.stream import PromptFilterDrop
from tollhouse.providers.openai_compatible.catalog import GENERIC
from tollhouse.providers.openai_compatible.request import passthrough_body, translated_body
from tollhouse.providers.openai_compatible.response import decode_response, decode_usage
from tollhouse.providers.openai_compatible.stream import (
    SSERelay,
    StreamDecoder,
    cut_usage,
    estimate_prompt_tokens,
    estimate_usage,
)
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem, WireBody, WireChunk
from tollhouse.providers.transport import Transport
from tollhouse.upstream.pool import UpstreamPool


class AzureProvider:
    """Azure OpenAI with an ``api-key``; ``azure_ad`` (``AzureADProvider``) sends an Entra ID token."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        self.name = name
        if not config.base_url:
            raise ValueError("kind azure needs base_url (https://RESOURCE.openai.azure.com)")
        self._target = AzureTarget(
            config.base_url, config.api_version or DEFAULT_API_VERSION, dict(config.deployments)
        )
        self._transport = Transport(name, config.base_url, config, pool, map_error)
        auth = self._auth(api_key.reveal()) if api_key is not None else {}
        self._headers = {"content-type": "application/json", **auth, **config.headers}

    def _auth(self, key: str) -> dict[str, str]:
        return {"api-key": key}

    def rekey(self, api_key: Secret) -> None:
        """Send ``api_key`` from now on (a rotated vault credential): one reference swap."""
        self._headers = {**self._headers, **self._auth(api_key.reveal())}

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        url = self._target.url(model, "chat/completions")
        if ctx.dialect == "openai":  # passthrough: the caller's body, Azure's bytes
            data = await self._transport.call(
                url, passthrough_body(ctx.payload, model, GENERIC), self._headers, ctx
            )
            ctx.usage = decode_usage(self._transport.parse(data).get("usage"))
            return WireBody(data)
        request = ctx.chat_request()
        body = translated_body(request, model, GENERIC, stream=False)
        response = decode_response(await self._transport.call_json(url, body, self._headers, ctx), self.name)
        if response.usage is None:
            response = dataclasses.replace(response, usage=estimate_usage(request, response))
        ctx.usage = response.usage
        return response

    async def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        url = self._target.url(model, "chat/completions")
        if ctx.dialect == "openai":
            options = ctx.payload.get("stream_options")
            relay = SSERelay(keep_usage=isinstance(options, dict) and options.get("include_usage") is True)
            body = passthrough_body(ctx.payload, model, GENERIC)
            try:
                async with aclosing(self._transport.stream(url, body, self._headers)) as chunks:
                    async for data in chunks:
                        out = relay.feed(data)
                        if out:
                            yield WireChunk(out)
                rest = relay.finish()
                if rest:
                    yield WireChunk(rest)
                ctx.usage = relay.usage
                if not relay.done:
                    raise UpstreamUnavailable(f"provider {self.name} ended the stream early")
            except BaseException:
                if ctx.usage is None:  # cut off: settle limits on what was spent so far
                    ctx.usage = cut_usage(relay, ctx)
                raise
            return
        request = ctx.chat_request()
        decoder = StreamDecoder(self.name, estimate_prompt_tokens(request))
        body = translated_body(request, model, GENERIC, stream=True)
        filtered = PromptFilterDrop()
        async with aclosing(self._transport.stream(url, body, self._headers)) as chunks:
            async for data in chunks:
                for event in decoder.feed(filtered.feed(data)):
                    yield event
        for event in (*decoder.feed(filtered.finish()), *decoder.finish()):
            yield event
        ctx.usage = decoder.usage

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        if ctx.dialect != "openai":
            raise InvalidRequest(f"provider {self.name} serves embeddings in OpenAI's format only")
        url = self._target.url(model, "embeddings")
        data = await self._transport.call(
            url, passthrough_body(ctx.payload, model, GENERIC), self._headers, ctx
        )
        ctx.usage = decode_usage(self._transport.parse(data).get("usage"))
        return WireBody(data)

    async def check(self) -> bool:
        return await self._transport.check()


class AzureADProvider(AzureProvider):
    """Azure OpenAI authorised by a Microsoft Entra ID access token (``Authorization: Bearer``)."""

    def _auth(self, key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"}
