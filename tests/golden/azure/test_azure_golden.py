"""Golden fixtures for Azure OpenAI: request targets, Azure-shaped answers and streams (decoded by
the OpenAI-compatible translator Azure shares) and Azure's errors (sources: README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.codec import read_json, to_json
from tests.golden.golden_pairs import Pair, check_json, pairs, params
from tests.golden.provider_cases import PLAIN, error_json, mapped_error
from tollhouse.errors import TollhouseError
from tollhouse.providers.azure.errors import map_error
from tollhouse.providers.azure.request import AzureTarget
from tollhouse.providers.azure.stream import PromptFilterDrop
from tollhouse.providers.openai_compatible.response import decode_response
from tollhouse.providers.openai_compatible.stream import StreamDecoder, estimate_prompt_tokens

ROOT = Path(__file__).parent


@pytest.mark.parametrize("pair", params(pairs(ROOT, "targets", ".json", "urls", ".json")))
def test_request_targets(pair: Pair) -> None:
    urls = [
        AzureTarget(t["endpoint"], t["api_version"], t["deployments"]).url(t["model"], t["operation"])
        for t in read_json(pair.source)
    ]
    check_json(pair, urls)


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_response", ".json", "canonical_response", ".json")))
def test_response(pair: Pair) -> None:
    check_json(pair, to_json(decode_response(read_json(pair.source), "upstream")))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_stream", ".sse", "canonical_events", ".json")))
def test_stream(pair: Pair) -> None:
    decoder = StreamDecoder("upstream", estimate_prompt_tokens(PLAIN))
    filtered = PromptFilterDrop()
    events: list[object] = []
    try:
        events.extend(decoder.feed(filtered.feed(pair.source.read_bytes())))
        events.extend(decoder.feed(filtered.finish()))
        events.extend(decoder.finish())
    except TollhouseError as error:
        events.append({"error": error_json(error)})
    check_json(pair, [e if isinstance(e, dict) else to_json(e) for e in events])


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_error", ".json", "canonical_error", ".json")))
def test_error(pair: Pair) -> None:
    check_json(pair, mapped_error(pair, map_error))
