"""The reference server for the MCP conformance suite's server scenarios.

``@modelcontextprotocol/conformance`` tests a server by the fixtures its scenarios name
(``test_simple_text``, ``test://static-text``, ``test_simple_prompt``…); the package ships the
checks but no server. This one, written with the official Python SDK (``MCPServer``),
provides those fixtures as the suite's scenario descriptions define them, so
``scripts/mcp_conformance.sh`` can run the suite against it directly and through a
single-upstream Tollhouse route and compare.

Run: ``python -m tests.fakes.mcp_conformance_server PORT`` (Streamable HTTP at ``/mcp``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from typing import Any

import uvicorn
from mcp import types
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore

IMAGE = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
AUDIO = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
    "additionalProperties": False,
}


def _text(text: str) -> types.TextContent:
    return types.TextContent(type="text", text=text)


def _embedded(uri: str, mime: str, text: str) -> types.EmbeddedResource:
    return types.EmbeddedResource(
        type="resource", resource=types.TextResourceContents(uri=uri, mime_type=mime, text=text)
    )


def _elicited(result: types.ElicitResult, lead: str) -> str:
    return f"{lead}: action={result.action}, content={json.dumps(result.content or {})}"


def _tools(server: MCPServer) -> None:
    @server.tool(description="Tests simple text content response", structured_output=False)
    def test_simple_text() -> list[types.ContentBlock]:
        return [_text("This is a simple text response for testing.")]

    @server.tool(description="Tests image content response", structured_output=False)
    def test_image_content() -> list[types.ContentBlock]:
        return [types.ImageContent(type="image", data=IMAGE, mime_type="image/png")]

    @server.tool(description="Tests audio content response", structured_output=False)
    def test_audio_content() -> list[types.ContentBlock]:
        return [types.AudioContent(type="audio", data=AUDIO, mime_type="audio/wav")]

    @server.tool(description="Tests embedded resource content response", structured_output=False)
    def test_embedded_resource() -> list[types.ContentBlock]:
        return [_embedded("test://embedded-resource", "text/plain", "This is an embedded resource content.")]

    @server.tool(description="Tests response with multiple content types", structured_output=False)
    def test_multiple_content_types() -> list[types.ContentBlock]:
        data = json.dumps({"test": "data", "value": 123})
        return [
            _text("Multiple content types test:"),
            types.ImageContent(type="image", data=IMAGE, mime_type="image/png"),
            _embedded("test://mixed-content-resource", "application/json", data),
        ]

    @server.tool(description="Tests tool that emits log messages during execution")
    async def test_tool_with_logging(ctx: Context) -> str:
        for line in ("Tool execution started", "Tool processing data", "Tool execution completed"):
            await ctx.info(line)
            await asyncio.sleep(0.05)
        return "Tool with logging executed successfully"

    @server.tool(description="Tests tool that reports progress notifications")
    async def test_tool_with_progress(ctx: Context) -> str:
        for step in (0, 50, 100):
            await ctx.report_progress(step, 100, f"Completed step {step} of 100")
            await asyncio.sleep(0.05)
        return "progress reported"

    @server.tool(description="Tests error response handling")
    def test_error_handling() -> str:
        raise ToolError("This tool intentionally returns an error for testing")

    @server.tool(description="Tests server-initiated sampling (LLM completion request)")
    async def test_sampling(prompt: str, ctx: Context) -> str:
        result = await ctx.session.create_message(
            [types.SamplingMessage(role="user", content=_text(prompt))],
            max_tokens=100,
            related_request_id=ctx.request_id,
        )
        content = result.content
        return f"LLM response: {content.text if isinstance(content, types.TextContent) else 'No response'}"

    @server.tool(description="Tests server-initiated elicitation (user input request)")
    async def test_elicitation(message: str, ctx: Context) -> str:
        schema = {
            "type": "object",
            "properties": {"response": {"type": "string", "description": "User's response"}},
            "required": ["response"],
        }
        result = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
        return _elicited(result, "User response")

    @server.tool(description="Tests elicitation with default values per SEP-1034")
    async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "User name", "default": "John Doe"},
                "age": {"type": "integer", "description": "User age", "default": 30},
                "score": {"type": "number", "description": "User score", "default": 95.5},
                "status": {
                    "type": "string",
                    "description": "User status",
                    "enum": ["active", "inactive", "pending"],
                    "default": "active",
                },
                "verified": {"type": "boolean", "description": "Verification status", "default": True},
            },
            "required": [],
        }
        message = "Please review and update the form fields with defaults"
        result = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
        return _elicited(result, "Elicitation completed")

    @server.tool(description="Tests elicitation with enum schema improvements per SEP-1330")
    async def test_elicitation_sep1330_enums(ctx: Context) -> str:
        options = ["option1", "option2", "option3"]
        titled = [{"const": f"value{i}", "title": t} for i, t in enumerate(("First", "Second", "Third"), 1)]
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {
                "untitledSingle": {"type": "string", "description": "Select one option", "enum": options},
                "titledSingle": {
                    "type": "string",
                    "description": "Select one option with titles",
                    "oneOf": titled,
                },
                "legacyEnum": {
                    "type": "string",
                    "description": "Select one option (legacy)",
                    "enum": ["opt1", "opt2", "opt3"],
                    "enumNames": ["Option One", "Option Two", "Option Three"],
                },
                "untitledMulti": {
                    "type": "array",
                    "description": "Select multiple options",
                    "minItems": 1,
                    "maxItems": 3,
                    "items": {"type": "string", "enum": options},
                },
                "titledMulti": {
                    "type": "array",
                    "description": "Select multiple options with titles",
                    "minItems": 1,
                    "maxItems": 3,
                    "items": {"anyOf": titled},
                },
            },
            "required": [],
        }
        message = "Please select options from the enum fields"
        result = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
        return _elicited(result, "Elicitation completed")

    @server.tool(description="Tests SSE stream disconnection and client reconnection (SEP-1699)")
    async def test_reconnection(ctx: Context) -> str:
        await ctx.close_sse_stream()  # the client must come back with Last-Event-ID
        await asyncio.sleep(0.1)
        return "Reconnection test completed successfully."

    @server.tool(description="Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)")
    def json_schema_2020_12_tool(name: str | None = None, address: dict[str, Any] | None = None) -> str:
        return f"JSON Schema 2020-12 tool called with: {json.dumps({'name': name, 'address': address})}"

    tool = server._tool_manager.get_tool("json_schema_2020_12_tool")
    assert tool is not None
    tool.parameters = SCHEMA_2020_12  # listed verbatim; calls are still checked by the signature


class _Events(EventStore):
    """In-memory events, so a client can resume a closed stream (SEP-1699)."""

    def __init__(self) -> None:
        self._events: list[tuple[str, str, types.JSONRPCMessage | None]] = []

    async def store_event(self, stream_id: str, message: types.JSONRPCMessage | None) -> str:
        event_id = f"{stream_id}::{len(self._events):08d}"
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: str, send_callback: EventCallback) -> str | None:
        stream_id = last_event_id.split("::", 1)[0]
        for event_id, stream, message in self._events:
            if stream == stream_id and event_id > last_event_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


def _resources(server: MCPServer) -> None:
    @server.resource("test://static-text", name="static-text", mime_type="text/plain")
    def static_text() -> str:
        return "This is the content of the static text resource."

    @server.resource("test://static-binary", name="static-binary", mime_type="image/png")
    def static_binary() -> bytes:
        return base64.b64decode(IMAGE)

    @server.resource("test://template/{id}/data", name="template", mime_type="application/json")
    def template(id: str) -> str:
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})

    @server.resource("test://watched-resource", name="watched-resource", mime_type="text/plain")
    def watched() -> str:
        return "Watched resource content"

    async def subscription(ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
        return types.EmptyResult()

    async def set_level(ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        return types.EmptyResult()

    low = server._lowlevel_server  # the SDK's MCPServer has no decorator for these
    low.add_request_handler("resources/subscribe", types.SubscribeRequestParams, subscription)
    low.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, subscription)
    low.add_request_handler("logging/setLevel", types.SetLevelRequestParams, set_level)


def _prompts(server: MCPServer) -> None:
    @server.prompt(description="A simple prompt without arguments")
    def test_simple_prompt() -> str:
        return "This is a simple prompt for testing."

    @server.prompt(description="A prompt with required arguments")
    def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
        return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"

    @server.prompt(description="A prompt that includes an embedded resource")
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:
        return [
            UserMessage(_embedded(resourceUri, "text/plain", "Embedded resource content for testing.")),
            UserMessage("Please process the embedded resource above."),
        ]

    @server.prompt(description="A prompt that includes image content")
    def test_prompt_with_image() -> list[UserMessage]:
        return [
            UserMessage(types.ImageContent(type="image", data=IMAGE, mime_type="image/png")),
            UserMessage("Please analyze the image above."),
        ]

    @server.completion()
    async def complete(ref: Any, argument: Any, context: Any) -> types.Completion:
        return types.Completion(values=[], total=0, has_more=False)


def conformance_server() -> MCPServer:
    """The fixtures the conformance suite's server scenarios call."""
    server = MCPServer("mcp-conformance-test-server")
    _tools(server)
    _resources(server)
    _prompts(server)
    return server


def main(port: int) -> None:
    app = conformance_server().streamable_http_app(event_store=_Events(), retry_interval=500)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]))
