"""The 2026-07-28 envelope and routing headers the gateway sends to a modern upstream."""

from __future__ import annotations

from tollhouse.mcp.upstream.envelope import stamp

SCHEMA = {"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}


def test_a_tool_call_is_stamped_and_mirrored() -> None:
    body, headers = stamp("tools/call", {"name": "regional", "arguments": {"region": "eu west"}}, SCHEMA)
    assert body["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    assert "io.modelcontextprotocol/clientCapabilities" in body["_meta"]
    assert headers["mcp-method"] == "tools/call" and headers["mcp-name"] == "regional"
    assert headers["Mcp-Param-Region"] == "eu west"


def test_a_list_has_no_name_and_keeps_the_callers_meta() -> None:
    body, headers = stamp("tools/list", {"_meta": {"progressToken": "t"}})
    assert "mcp-name" not in headers and body["_meta"]["progressToken"] == "t"
