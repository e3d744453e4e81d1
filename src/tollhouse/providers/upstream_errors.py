"""An upstream's failure status → the typed gateway error, shared by every provider's ``errors``.

Each provider's ``errors`` module reads its own error body (the message, its error type) and
hands the result here, so the routing meaning of a status — retryable, fallback allowed — is
decided in one place.
"""

from __future__ import annotations

from tollhouse.errors import (
    UpstreamAuthFailed,
    UpstreamContentFiltered,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

MAX_MESSAGE = 500


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
