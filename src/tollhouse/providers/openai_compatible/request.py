"""Outgoing OpenAI-compatible bodies on the passthrough lane: the caller's body, our model name.

The caller's OpenAI body is forwarded as sent (unknown fields included, since they are
meaningful to OpenAI-compatible servers) except the model, the catalog row's quirks, and
``stream_options.include_usage``, which the gateway always asks for so it can meter streams.
"""

from __future__ import annotations

from typing import Any

import orjson

from tollhouse.providers.openai_compatible.catalog import CatalogRow


def passthrough_body(payload: dict[str, Any], model: str, row: CatalogRow) -> bytes:
    body = dict(payload)
    body["model"] = model
    if body.get("stream") is True and "stream_options" not in row.drop_params:
        options = body.get("stream_options")
        if not (isinstance(options, dict) and options.get("include_usage") is True):
            body["stream_options"] = {**(options or {}), "include_usage": True}
    for key in row.drop_params:
        body.pop(key, None)
    for ours, theirs in row.rename_params:
        if ours in body:
            body[theirs] = body.pop(ours)
    return orjson.dumps(body)
