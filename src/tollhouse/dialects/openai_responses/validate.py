"""Shape checks on decoded Responses bodies (hot path: dict lookups, no models).

The gateway keeps no conversation state, so everything that refers to a stored response or
conversation (``previous_response_id``, ``conversation``, ``item_reference`` items,
``background``) is refused with a 400 that says to send the whole conversation as ``input``.
Hosted tools (web search, file search, …) exist only at OpenAI and are refused too; function
tools work with every provider.
"""

from __future__ import annotations

from typing import Any

from tollhouse.dialects.openai.validate import one_of, require_model
from tollhouse.errors import InvalidRequest

_ITEM_TYPES = frozenset({"message", "function_call", "function_call_output", "reasoning"})
_ROLES = frozenset({"user", "assistant", "system", "developer"})
_PART_TYPES = frozenset({"input_text", "input_image", "input_file", "output_text", "refusal"})
_TOOL_CHOICES = frozenset({"auto", "none", "required"})
_FORMATS = frozenset({"text", "json_object", "json_schema"})
_STATELESS = "this gateway keeps no conversation state: send the whole conversation as `input`"


def _fail(param: str, message: str, code: str = "invalid_value") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def _check_stateless(body: dict[str, Any]) -> None:
    for key in ("previous_response_id", "conversation"):
        if body.get(key) is not None:
            raise _fail(key, f"'{key}' is not supported: {_STATELESS}", "unsupported_parameter")
    if body.get("background") is True:
        raise _fail(
            "background", "'background' is not supported: responses are not stored", "unsupported_parameter"
        )


def _check_item(i: int, item: Any) -> None:
    where = f"input[{i}]"
    if not isinstance(item, dict):
        raise _fail(where, f"'{where}' must be an object")
    kind = item.get("type", "message")
    if kind == "item_reference":
        raise _fail(where, f"item references are not supported: {_STATELESS}", "unsupported_parameter")
    if not isinstance(kind, str) or kind not in _ITEM_TYPES:
        raise _fail(
            f"{where}.type",
            f"'{where}.type' {kind!r} is not supported; use message, function_call or function_call_output",
        )
    if kind == "message":
        if not one_of(item.get("role"), _ROLES):
            raise _fail(f"{where}.role", f"'{where}.role' must be one of user, assistant, system, developer")
        content = item.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, dict) or not one_of(part.get("type"), _PART_TYPES):
                    raise _fail(
                        f"{where}.content[{j}]",
                        f"'{where}.content[{j}]' must be a content part with a known type",
                    )
        elif not isinstance(content, str):
            raise _fail(f"{where}.content", f"'{where}.content' must be a string or a list of content parts")
    elif kind == "function_call":
        if not all(isinstance(item.get(k), str) for k in ("call_id", "name", "arguments")):
            raise _fail(where, f"'{where}' (function_call) needs call_id, name and arguments")
    elif kind == "function_call_output" and (
        not isinstance(item.get("call_id"), str) or not isinstance(item.get("output"), str | list)
    ):
        raise _fail(where, f"'{where}' (function_call_output) needs call_id and output")


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _fail("tools", "'tools' must be a list")
        for i, tool in enumerate(tools):
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind != "function":
                raise _fail(
                    f"tools[{i}].type",
                    f"tool type {kind!r} is not supported by this gateway; use function tools",
                )
            if not isinstance(tool.get("name"), str) or not tool["name"]:
                raise _fail(f"tools[{i}].name", f"'tools[{i}].name' is required")
            if tool.get("parameters") is not None and not isinstance(tool["parameters"], dict):
                raise _fail(f"tools[{i}].parameters", "function parameters must be a JSON Schema object")
    choice = body.get("tool_choice")
    named = (
        isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str)
    )
    if choice is not None and not named and not (isinstance(choice, str) and choice in _TOOL_CHOICES):
        raise _fail(
            "tool_choice",
            "'tool_choice' must be none, auto, required or {'type': 'function', 'name': ...}",
        )


def _check_text(body: dict[str, Any]) -> None:
    text = body.get("text")
    if text is None:
        return
    fmt = text.get("format") if isinstance(text, dict) else None
    if fmt is None:
        return
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if not one_of(kind, _FORMATS):
        raise _fail("text.format.type", "'text.format.type' must be text, json_object or json_schema")
    if kind == "json_schema" and not (
        isinstance(fmt.get("name"), str) and isinstance(fmt.get("schema"), dict)
    ):
        raise _fail("text.format", "'text.format' of type json_schema needs a name and a schema")


def _check_numbers(body: dict[str, Any]) -> None:
    for key, low, high in (("temperature", 0, 2), ("top_p", 0, 1)):
        value = body.get(key)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        if value is not None and not ok:
            raise _fail(key, f"'{key}' must be a number between {low} and {high}")
    limit = body.get("max_output_tokens")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise _fail("max_output_tokens", "'max_output_tokens' must be an integer >= 1")
    for key in ("stream", "parallel_tool_calls"):
        if body.get(key) is not None and not isinstance(body[key], bool):
            raise _fail(key, f"'{key}' must be a boolean")


def check_responses(body: dict[str, Any]) -> str:
    """Validate a Responses body; return its model. Raises ``InvalidRequest``."""
    model = require_model(body)
    _check_stateless(body)
    data = body.get("input")
    if isinstance(data, list):
        if not data:
            raise _fail("input", "'input' must not be empty")
        for i, item in enumerate(data):
            _check_item(i, item)
    elif not isinstance(data, str) or not data:
        raise _fail("input", "'input' must be a non-empty string or a list of input items")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _fail("instructions", "'instructions' must be a string")
    _check_tools(body)
    _check_text(body)
    _check_numbers(body)
    return model
