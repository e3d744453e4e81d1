"""Golden fixtures for the Gemini translator (sources: README.md beside this file)."""

from __future__ import annotations

from pathlib import Path

from tests.golden.provider_cases import NativeSuite, golden_tests
from tollhouse.providers.gemini.errors import map_error
from tollhouse.providers.gemini.request import build_request
from tollhouse.providers.gemini.response import decode_response
from tollhouse.providers.gemini.stream import StreamDecoder

MODEL = "gemini-2.5-flash"

test_request, test_response, test_stream, test_error = golden_tests(
    NativeSuite(
        root=Path(__file__).parent,
        build_request=build_request,
        decode_response=lambda body: decode_response(body, MODEL, 0, "upstream"),
        stream_decoder=lambda: StreamDecoder("upstream", MODEL, 0),
        map_error=map_error,
    )
)
