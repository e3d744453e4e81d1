"""An OpenAI-style error response (status + body) → a typed gateway error."""

from __future__ import annotations

import orjson

from tollhouse.errors import (
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

_MAX_MESSAGE = 500


def _message(body: bytes) -> tuple[str, str | None]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", None
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or "")[:_MAX_MESSAGE], err.get("param")
    if isinstance(err, str):
        return err[:_MAX_MESSAGE], None
    return "", None


def map_error(status: int, body: bytes, provider: str, retry_after: str | None) -> UpstreamError:
    """The typed error for an upstream's non-2xx answer.

    The upstream's message is passed on only where it describes the caller's request
    (400/404/422); authentication failures name no detail, since providers echo the key.
    """
    message, param = _message(body)
    if status in (401, 403):
        return UpstreamAuthFailed(f"provider {provider} rejected the gateway's credentials")
    if status == 429:
        headers = (
            {"retry-after": retry_after}
            if retry_after and retry_after.isascii() and retry_after.isdigit()
            else {}
        )
        return UpstreamRateLimited(
            f"provider {provider} is rate limiting: {message or 'too many requests'}", headers=headers
        )
    if status in (408, 504):
        return UpstreamTimeout(f"provider {provider} timed out")
    if status == 404:
        return UpstreamRejected(
            f"provider {provider}: {message or 'not found'}",
            status=404,
            param=param,
            code="upstream_not_found",
        )
    if 400 <= status < 500:
        return UpstreamRejected(f"provider {provider}: {message or f'HTTP {status}'}", param=param)
    return UpstreamUnavailable(f"provider {provider} failed with HTTP {status}")
