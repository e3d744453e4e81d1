"""Shape checks on decoded OpenAI request bodies.

Hand-written rather than a pydantic model because this runs on every request: a few dict
lookups and isinstance checks cost about a microsecond, a full model validation tens. Each
failure names the offending parameter, as OpenAI's own errors do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tollhouse.errors import InvalidRequest

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PART_TYPES = frozenset({"text", "image_url", "input_audio", "file", "refusal"})
_TOOL_CHOICES = frozenset({"none", "auto", "required"})


def _fail(param: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, param=param, code="invalid_value")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_int(body: dict[str, Any], key: str, low: int, high: int | None = None) -> None:
    value = body.get(key)
    if value is None:
        return
    if not _is_int(value) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise _fail(key, f"'{key}' must be an integer {bound}")


def _check_number(body: dict[str, Any], key: str, low: float, high: float) -> None:
    value = body.get(key)
    if value is not None and (not _is_number(value) or not low <= value <= high):
        raise _fail(key, f"'{key}' must be a number between {low} and {high}")


def one_of(value: Any, allowed: frozenset[str]) -> bool:
    """Whether a caller's ``value`` is one of ``allowed`` (a list or object is not: testing an
    unhashable value's membership in a set would raise instead of failing the check)."""
    return isinstance(value, str) and value in allowed


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None:
        raise InvalidRequest(
            "you must provide a model parameter", param="model", code="missing_required_parameter"
        )
    if not isinstance(model, str) or not model:
        raise _fail("model", "'model' must be a non-empty string")
    return model


def _check_message(index: int, message: Any) -> None:
    # The parameter path is formatted only on failure: this runs for every message of every call.
    if not isinstance(message, dict):
        where = f"messages[{index}]"
        raise _fail(where, f"'{where}' must be an object")
    role = message.get("role")
    if type(role) is not str or role not in _ROLES:
        where = f"messages[{index}].role"
        raise _fail(where, f"'{where}' must be one of {', '.join(sorted(_ROLES))}")
    content = message.get("content")
    if type(content) is not str and content is not None:
        _check_content(index, content)
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        where = f"messages[{index}].tool_call_id"
        raise _fail(where, f"'{where}' is required for tool messages")
    calls = message.get("tool_calls")
    if calls is not None:
        _check_tool_calls(index, calls)


def _check_content(index: int, content: Any) -> None:
    where = f"messages[{index}]"
    if not isinstance(content, list):
        raise _fail(f"{where}.content", f"'{where}.content' must be a string or a list of content parts")
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if not isinstance(kind, str) or kind not in _PART_TYPES:
            raise _fail(
                f"{where}.content[{j}]",
                f"'{where}.content[{j}]' must be a content part with a known type",
            )


def _check_tool_calls(index: int, calls: Any) -> None:
    where = f"messages[{index}]"
    if not isinstance(calls, list):
        raise _fail(f"{where}.tool_calls", f"'{where}.tool_calls' must be a list")
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise _fail(f"{where}.tool_calls[{j}]", f"'{where}.tool_calls[{j}]' must have function.name")


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _fail("tools", "'tools' must be a list")
    for i, tool in enumerate(tools or ()):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise _fail(
                f"tools[{i}]", f"'tools[{i}]' must be {{'type': 'function', 'function': {{'name': ...}}}}"
            )
        params = fn.get("parameters")
        if params is not None and (not isinstance(params, dict) or params.get("type", "object") != "object"):
            raise _fail(
                f"tools[{i}].function.parameters",
                "function parameters must be a JSON Schema of type 'object'",
            )
    choice = body.get("tool_choice")
    if choice is not None and not (isinstance(choice, str) and choice in _TOOL_CHOICES):
        fn = choice.get("function") if isinstance(choice, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise _fail("tool_choice", "'tool_choice' must be none, auto, required or a named function")


def _check_stream_options(body: dict[str, Any]) -> None:
    if not isinstance(body["stream_options"], dict):
        raise _fail("stream_options", "'stream_options' must be an object")
    if not body.get("stream"):
        raise _fail("stream_options", "'stream_options' is only allowed when 'stream' is true")


def _check_stop(body: dict[str, Any]) -> None:
    stop = body["stop"]
    if isinstance(stop, str):
        return
    if not isinstance(stop, list) or len(stop) > 4 or not all(isinstance(s, str) for s in stop):
        raise _fail("stop", "'stop' must be a string or a list of up to 4 strings")


def _check_response_format(body: dict[str, Any]) -> None:
    fmt = body["response_format"]
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        raise _fail("response_format", "'response_format.type' must be text, json_object or json_schema")
    if kind == "json_schema" and not isinstance(fmt.get("json_schema"), dict):
        raise _fail("response_format.json_schema", "'response_format.json_schema' is required")


# The per-field checks are closures with the test inlined: one call per field present, not three.
def _int(key: str, low: int, high: int | None = None) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        value = body[key]
        if type(value) is not int or value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise _fail(key, f"'{key}' must be an integer {bound}")

    return check


def _number(key: str, low: float, high: float) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        value = body[key]
        if not _is_number(value) or not low <= value <= high:
            raise _fail(key, f"'{key}' must be a number between {low} and {high}")

    return check


def _typed(key: str, kind: type, what: str) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        if not isinstance(body[key], kind):
            raise _fail(key, f"'{key}' must be {what}")

    return check


# One check per optional field, run only for the fields a body has: a typical request has three
# or four of them, so validation costs a handful of dict lookups, not one per known parameter.
_CHAT_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "stream": _typed("stream", bool, "a boolean"),
    "stream_options": _check_stream_options,
    "n": _int("n", 1, 128),
    "max_tokens": _int("max_tokens", 1),
    "max_completion_tokens": _int("max_completion_tokens", 1),
    "seed": _int("seed", -(2**63), 2**63 - 1),
    "top_logprobs": _int("top_logprobs", 0, 20),
    "temperature": _number("temperature", 0, 2),
    "top_p": _number("top_p", 0, 1),
    "presence_penalty": _number("presence_penalty", -2, 2),
    "frequency_penalty": _number("frequency_penalty", -2, 2),
    "logprobs": _typed("logprobs", bool, "a boolean"),
    "parallel_tool_calls": _typed("parallel_tool_calls", bool, "a boolean"),
    "user": _typed("user", str, "a string"),
    "stop": _check_stop,
    "response_format": _check_response_format,
    "tools": _check_tools,
    "tool_choice": _check_tools,
}


def check_chat(body: dict[str, Any]) -> str:
    """Validate a Chat Completions body; return its model. Raises ``InvalidRequest``."""
    model = require_model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _fail("messages", "'messages' must be a non-empty list")
    for i, message in enumerate(messages):
        _check_message(i, message)
    checks = _CHAT_CHECKS
    for key in body:
        check = checks.get(key)
        if check is not None and body[key] is not None:
            check(body)
    return model


def check_embeddings(body: dict[str, Any]) -> str:
    """Validate an Embeddings body; return its model. Raises ``InvalidRequest``."""
    model = require_model(body)
    data = body.get("input")
    ok = isinstance(data, str) and data != ""
    if isinstance(data, list) and data:
        first = data[0]
        if isinstance(first, str):
            ok = all(isinstance(x, str) for x in data)
        elif _is_int(first):
            ok = all(_is_int(x) for x in data)
        elif isinstance(first, list):
            ok = all(isinstance(x, list) and x and all(_is_int(t) for t in x) for x in data)
    if not ok:
        raise _fail("input", "'input' must be a non-empty string, list of strings or token arrays")
    _check_int(body, "dimensions", 1, 65536)
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise _fail("encoding_format", "'encoding_format' must be float or base64")
    return model
