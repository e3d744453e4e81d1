"""JSON-RPC shapes, the envelope, naming and Cedar values."""

from __future__ import annotations

import pytest

from tollhouse.mcp.authorize import cedar_value
from tollhouse.mcp.naming import RouteNames
from tollhouse.mcp.protocol import LATEST_HANDSHAKE, negotiate, strip_envelope, valid_shape


@pytest.mark.parametrize(
    ("message", "ok"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "ping"}, True),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, True),
        ({"jsonrpc": "2.0", "id": "a", "result": {}}, True),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, False),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, False),
        ({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": []}, False),
        ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], False),
        ({"jsonrpc": "2.0", "id": 1}, False),
    ],
)
def test_valid_shape(message: object, ok: bool) -> None:
    assert valid_shape(message) is ok


def test_the_envelope_is_stripped_and_the_rest_kept() -> None:
    params = {
        "name": "t",
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "progressToken": 5},
    }
    assert strip_envelope(params) == {"name": "t", "_meta": {"progressToken": 5}}
    assert strip_envelope({"_meta": {"io.modelcontextprotocol/clientCapabilities": {}}}) == {}
    assert strip_envelope(None) is None


def test_negotiate() -> None:
    assert negotiate("2025-06-18") == "2025-06-18"
    assert negotiate("1999-01-01") == LATEST_HANDSHAKE
    assert negotiate("2026-07-28") == LATEST_HANDSHAKE  # not a handshake version


def test_route_names() -> None:
    federated = RouteNames("work", ("notes", "files"), prefixed=True)
    assert federated.expose("notes", "add") == "notes__add"
    assert federated.resolve("notes__add") == ("notes", "add")
    assert federated.resolve("notes__a__b") == ("notes", "a__b")
    assert federated.resolve("other__add") is None
    assert federated.resolve("add") is None
    single = RouteNames("one", ("notes",), prefixed=False)
    assert single.resolve("add") == ("notes", "add") and single.expose("notes", "add") == "add"


def test_cedar_values() -> None:
    args = {"path": "/a", "n": 3, "ratio": 0.5, "none": None, "flags": [True, 1.5, "x"], "deep": {"k": "v"}}
    assert cedar_value(args) == {"path": "/a", "n": 3, "flags": [True, "x"], "deep": {"k": "v"}}
    assert cedar_value(2**70) == str(2**70)
