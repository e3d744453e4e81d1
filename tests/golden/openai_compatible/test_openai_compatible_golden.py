"""Golden fixtures for the OpenAI-compatible translator: canonical ⇄ Chat Completions wire.

A file-name suffix that is a catalog name (``canonical_request_openai.json``) runs that case
with the catalog row's quirks; other suffixes use the generic row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.golden.codec import read_json, to_json
from tests.golden.golden_pairs import Pair, check_json, pairs, params
from tests.golden.provider_cases import error_json, source_request, wire_json
from tollhouse.providers.openai_compatible.catalog import CATALOG, GENERIC, CatalogRow
from tollhouse.providers.openai_compatible.errors import map_error
from tollhouse.providers.openai_compatible.request import translated_request
from tollhouse.providers.openai_compatible.response import decode_response
from tollhouse.providers.openai_compatible.stream import StreamDecoder

ROOT = Path(__file__).parent
PROMPT_ESTIMATE = 10  # what the provider would estimate for the prompt when usage is missing


def _row(pair: Pair) -> CatalogRow:
    return CATALOG.get(pair.suffix.lstrip("_"), GENERIC)


@pytest.mark.parametrize("pair", params(pairs(ROOT, "canonical_request", ".json", "wire_request", ".json")))
def test_request(pair: Pair) -> None:
    request = source_request(pair)
    body = translated_request(request, request.model, _row(pair), stream=request.stream)
    # What goes on the wire must be JSON as orjson writes it (no tuples or dataclasses left).
    check_json(pair, wire_json(body))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_response", ".json", "canonical_response", ".json")))
def test_response(pair: Pair) -> None:
    check_json(pair, to_json(decode_response(read_json(pair.source), "upstream")))


def _events(data: bytes, step: int | None) -> list[Any]:
    decoder = StreamDecoder("upstream", PROMPT_ESTIMATE)
    events = []
    chunks = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.finish())
    return events


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_stream", ".sse", "canonical_events", ".json")))
def test_stream(pair: Pair) -> None:
    data = pair.source.read_bytes()
    whole = _events(data, None)
    # Frames split anywhere (mid-line, mid-UTF-8) decode to the same events.
    assert _events(data, 7) == whole
    check_json(pair, to_json(whole))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_error", ".json", "canonical_error", ".json")))
def test_error(pair: Pair) -> None:
    raw = read_json(pair.source)
    body = orjson.dumps(raw["body"]) if not isinstance(raw["body"], str) else raw["body"].encode()
    error = map_error(raw["status"], body, "upstream", raw.get("retry_after"))
    check_json(pair, error_json(error))
