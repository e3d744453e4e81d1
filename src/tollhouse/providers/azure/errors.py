"""Azure OpenAI errors → typed errors; content-filter refusals become content-filter errors.

A prompt Azure's content filter blocks is a 400 whose ``error.code`` is ``content_filter``
(``innererror.code``: ``ResponsibleAIPolicyViolation``), see
https://learn.microsoft.com/azure/ai-foundry/openai/concepts/content-filter. Everything else
has OpenAI's envelope.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from tollhouse.errors import UpstreamError
from tollhouse.providers.upstream_errors import error_for_status


def map_error(status: int, body: bytes, provider: str, headers: Mapping[str, str]) -> UpstreamError:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return error_for_status(status, "", provider, headers.get("retry-after"))
    inner = err.get("innererror")
    inner_code = inner.get("code") if isinstance(inner, dict) else None
    filtered = err.get("code") == "content_filter" or inner_code == "ResponsibleAIPolicyViolation"
    param = err.get("param") if isinstance(err.get("param"), str) else None
    return error_for_status(
        status,
        str(err.get("message") or ""),
        provider,
        headers.get("retry-after"),
        content_filtered=filtered,
        param=param,
    )
