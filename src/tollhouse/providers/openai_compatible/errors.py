"""An OpenAI-style error response (status + body) → a typed gateway error."""

from __future__ import annotations

import orjson

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
from tollhouse.providers.upstream_errors import is_context_overflow

_MAX_MESSAGE = 500


def _message(body: bytes) -> tuple[str, str | None, str | None]:
    """The upstream's error message, ``param`` and ``code`` (OpenAI's envelope)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", None, None
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        code = err.get("code")
        return (
            str(err.get("message") or "")[:_MAX_MESSAGE],
            err.get("param"),
            code if isinstance(code, str) else None,
        )
    if isinstance(err, str):
        return err[:_MAX_MESSAGE], None, None
    if isinstance(data, dict) and data.get("object") == "error":  # Mistral's and vLLM's envelope
        param = data.get("param")
        return (
            _object_error_message(data.get("message"))[:_MAX_MESSAGE],
            param if isinstance(param, str) else None,
            None,
        )
    return "", None, None


def _object_error_message(message: object) -> str:
    """The message of ``{"object": "error", "message": ...}``: text, or validation details
    (``{"detail": [{"loc": [...], "msg": ...}]}``) as ``loc: msg`` lines."""
    if isinstance(message, str):
        return message
    details = message.get("detail") if isinstance(message, dict) else None
    if not isinstance(details, list):
        return ""
    return "; ".join(
        f"{'.'.join(str(p) for p in d.get('loc') or [] if p != 'body')}: {d.get('msg', '')}"
        for d in details
        if isinstance(d, dict)
    )


def map_error(status: int, body: bytes, provider: str, retry_after: str | None) -> UpstreamError:
    """The typed error for an upstream's non-2xx answer.

    The upstream's message is passed on only where it describes the caller's request
    (400/404/422); authentication failures name no detail, since providers echo the key.
    """
    message, param, code = _message(body)
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
    if status == 400 and code == "content_filter":  # Azure's and OpenAI-compatible proxies' refusal
        return UpstreamContentFiltered(f"provider {provider} blocked the content: {message or 'filtered'}")
    if status in (400, 413) and (code == "context_length_exceeded" or is_context_overflow(message)):
        return UpstreamContextExceeded(
            f"provider {provider}: {message or 'context length exceeded'}", param=param
        )
    if 400 <= status < 500:
        return UpstreamRejected(f"provider {provider}: {message or f'HTTP {status}'}", param=param)
    return UpstreamUnavailable(f"provider {provider} failed with HTTP {status}")
