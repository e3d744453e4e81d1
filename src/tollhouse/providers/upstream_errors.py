"""An upstream's failure status → the typed gateway error, shared by every provider's ``errors``.

Each provider's ``errors`` module reads its own error body (the message, its error type) and
hands the result here, so the routing meaning of a status — retryable, fallback allowed — is
decided in one place.
"""

from __future__ import annotations

import re

from tollhouse.errors import (
    UpstreamAuthFailed,
    UpstreamContentFiltered,
    UpstreamContextExceeded,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

MAX_MESSAGE = 500

# How providers say a prompt is longer than the model's context window (OpenAI, Anthropic,
# Gemini, Mistral, vLLM…): the router then falls back to a larger-context target.
_CONTEXT_OVERFLOW = re.compile(
    r"context[ _]length|context window|maximum context|prompt is too long|too many (input )?tokens"
    r"|input (token count|is too long)",
    re.IGNORECASE,
)


def is_context_overflow(message: str) -> bool:
    """Whether an upstream's error message says the prompt does not fit the context window."""
    return bool(message) and _CONTEXT_OVERFLOW.search(message) is not None


def error_for_status(
    status: int,
    message: str,
    provider: str,
    retry_after: str | None = None,
    *,
    content_filtered: bool = False,
    param: str | None = None,
) -> UpstreamError:
    """The typed error for an upstream's non-2xx answer.

    The upstream's message is passed on only where it describes the caller's request (4xx);
    authentication failures name no detail, since providers may echo the key back.
    """
    message = message[:MAX_MESSAGE]
    if content_filtered:
        return UpstreamContentFiltered(f"provider {provider} blocked the content: {message or 'filtered'}")
    if status in (401, 403):
        return UpstreamAuthFailed(f"provider {provider} rejected the gateway's credentials")
    if status == 429:
        headers = {"retry-after": retry_after} if retry_after and retry_after.isdigit() else {}
        return UpstreamRateLimited(
            f"provider {provider} is rate limiting: {message or 'too many requests'}", headers=headers
        )
    if status in (408, 504):
        return UpstreamTimeout(f"provider {provider} timed out")
    if status in (400, 413) and is_context_overflow(message):
        return UpstreamContextExceeded(f"provider {provider}: {message}", param=param)
    if status == 404:
        return UpstreamRejected(
            f"provider {provider}: {message or 'not found'}",
            status=404,
            param=param,
            code="upstream_not_found",
        )
    if status == 413:
        return UpstreamRejected(
            f"provider {provider}: {message or 'request too large'}", status=413, code="request_too_large"
        )
    if 400 <= status < 500:
        return UpstreamRejected(f"provider {provider}: {message or f'HTTP {status}'}", param=param)
    return UpstreamUnavailable(f"provider {provider} failed with HTTP {status}")
