"""Golden fixtures for the Cohere v2 chat translator (sources: README.md beside this file)."""

from __future__ import annotations

from pathlib import Path

from tests.golden.provider_cases import NativeSuite, golden_tests
from tollhouse.providers.cohere.errors import map_error
from tollhouse.providers.cohere.request import build_request
from tollhouse.providers.cohere.response import decode_chat
from tollhouse.providers.cohere.stream import StreamDecoder

MODEL = "command-a-03-2025"

test_request, test_response, test_stream, test_error = golden_tests(
    NativeSuite(
        root=Path(__file__).parent,
        build_request=lambda request: build_request(request, request.model, request.stream),
        decode_response=lambda body: decode_chat(body, MODEL, 0),
        stream_decoder=lambda: StreamDecoder("upstream", MODEL, 0),
        map_error=map_error,
    )
)
