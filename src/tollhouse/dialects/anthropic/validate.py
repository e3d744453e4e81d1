"""Shape checks on decoded Anthropic Messages bodies (hot path: dict lookups, no models).

Messages name the offending field the way Anthropic's own errors do (``messages.0.content``).
Content blocks of types the gateway does not translate are accepted here: an Anthropic
upstream takes them as sent, and translation to other providers drops what they cannot carry.
"""

from __future__ import annotations

from typing import Any

from tollhouse.dialects.openai.validate import one_of, require_model
from tollhouse.errors import InvalidRequest

_ROLES = frozenset({"user", "assistant"})
_TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})


def _fail(param: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{param}: {message}", param=param, code="invalid_value")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_number(body: dict[str, Any], key: str, low: float, high: float) -> None:
    value = body.get(key)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    if value is not None and not ok:
        raise _fail(key, f"must be a number between {low:g} and {high:g}")


def _check_blocks(where: str, content: Any) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise _fail(where, "must be a string or a list of content blocks")
    for j, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise _fail(f"{where}.{j}", "must be a content block with a type")
        kind = block["type"]
        if kind == "text" and not isinstance(block.get("text"), str):
            raise _fail(f"{where}.{j}.text", "Field required")
        if kind == "tool_use" and not (
            isinstance(block.get("id"), str) and isinstance(block.get("name"), str)
        ):
            raise _fail(f"{where}.{j}", "tool_use blocks need an id and a name")
        if kind == "tool_result" and not isinstance(block.get("tool_use_id"), str):
            raise _fail(f"{where}.{j}.tool_use_id", "Field required")
        if kind in ("image", "document") and not isinstance(block.get("source"), dict):
            raise _fail(f"{where}.{j}.source", "Field required")


def _check_messages(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _fail("messages", "must be a non-empty list")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _fail(f"messages.{i}", "must be an object")
        if not one_of(message.get("role"), _ROLES):
            raise _fail(f"messages.{i}.role", "must be 'user' or 'assistant'")
        _check_blocks(f"messages.{i}.content", message.get("content"))


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _fail("tools", "must be a list")
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str) or not tool["name"]:
                raise _fail(f"tools.{i}.name", "Field required")
            schema = tool.get("input_schema")
            if tool.get("type") in (None, "custom"):
                if not isinstance(schema, dict):
                    raise _fail(f"tools.{i}.input_schema", "Field required")
                if schema.get("type") != "object":  # as Anthropic's API requires
                    raise _fail(f"tools.{i}.input_schema.type", "Input should be 'object'")
    choice = body.get("tool_choice")
    if choice is not None:
        kind = choice.get("type") if isinstance(choice, dict) else None
        if not one_of(kind, _TOOL_CHOICES):
            raise _fail("tool_choice.type", "must be one of auto, any, tool, none")
        if kind == "tool" and not isinstance(choice.get("name"), str):
            raise _fail("tool_choice.name", "Field required")


def _check_output_config(body: dict[str, Any]) -> None:
    config = body.get("output_config")
    if config is None:
        return
    if not isinstance(config, dict):
        raise _fail("output_config", "must be an object")
    fmt = config.get("format")
    if fmt is None:
        return
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise _fail("output_config.format.type", "must be 'json_schema'")
    if not isinstance(fmt.get("schema"), dict):
        raise _fail("output_config.format.schema", "Field required")


def _check_common(body: dict[str, Any]) -> str:
    model = require_model(body)
    system = body.get("system")
    if system is not None:
        _check_blocks("system", system)
    _check_messages(body)
    _check_tools(body)
    _check_output_config(body)
    thinking = body.get("thinking")
    if thinking is not None and not (isinstance(thinking, dict) and isinstance(thinking.get("type"), str)):
        raise _fail("thinking.type", "Field required")
    return model


def check_messages(body: dict[str, Any]) -> str:
    """Validate a Messages body; return its model. Raises ``InvalidRequest``."""
    model = _check_common(body)
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise _fail("max_tokens", "Field required")
    if not _is_int(max_tokens) or max_tokens < 1:
        raise _fail("max_tokens", "must be an integer >= 1")
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise _fail("stream", "must be a boolean")
    _check_number(body, "temperature", 0, 1)
    _check_number(body, "top_p", 0, 1)
    top_k = body.get("top_k")
    if top_k is not None and (not _is_int(top_k) or top_k < 0):
        raise _fail("top_k", "must be an integer >= 0")
    stops = body.get("stop_sequences")
    if stops is not None and not (isinstance(stops, list) and all(isinstance(s, str) for s in stops)):
        raise _fail("stop_sequences", "must be a list of strings")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _fail("metadata", "must be an object")
    return model


def check_count_tokens(body: dict[str, Any]) -> str:
    """Validate a count_tokens body (a Messages body without ``max_tokens``); return its model."""
    return _check_common(body)
