"""What the demo model says: deterministic text, tool calls and JSON from the request."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from tollhouse.model.chat import ChatRequest, Message, ToolCall, ToolSpec


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters a token), never zero for non-empty text."""
    return (len(text) + 3) // 4 if text else 0


def prompt_tokens(request: ChatRequest) -> int:
    return sum(estimate_tokens(m.text()) + 4 for m in request.messages)


_MAX_DEPTH = 32  # a schema nested deeper gets a plain value there: no recursion without bound


def sample_value(schema: Any, key: str = "value", depth: int = 0) -> Any:
    """A value that satisfies a simple JSON Schema, the same every time for the same schema.

    Total over whatever a caller sends as a schema: a malformed part (``properties`` that is
    not an object, say) is read as absent rather than failing the call."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return key
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required = schema.get("required")
        names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else list(props)
        # Required keys without a declared schema still get a value: the schema demands them.
        return {name: sample_value(props.get(name), name, depth + 1) for name in names or list(props)}
    if kind == "array":
        return [sample_value(schema.get("items"), key, depth + 1)]
    if kind in ("integer", "number"):
        low, high = _number(schema.get("minimum")), _number(schema.get("maximum"))
        value = low if low is not None else (min(1, high) if high is not None else 1)
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return f"demo-{key}"


def _number(value: Any) -> int | float | None:
    """A schema bound, if it is a finite number (anything else is no bound)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
        return None
    return value if abs(value) < 2**53 else None


def _arguments(schema: Any) -> dict[str, Any]:
    """A tool call's arguments are an object whatever the schema says (one that declares no
    type, say): the gateway refuses a model's non-object arguments."""
    value = sample_value(schema or {"type": "object"})
    return value if isinstance(value, dict) else {}


def _last_turn(request: ChatRequest) -> Message | None:
    for message in reversed(request.messages):
        if message.role in ("user", "tool"):
            return message
    return None


def tool_calls(request: ChatRequest) -> tuple[ToolCall, ...]:
    """The calls the demo model makes: only when tools are offered and the user spoke last."""
    last = _last_turn(request)
    if not request.tools or request.tool_choice == "none" or last is None or last.role != "user":
        return ()
    chosen: list[ToolSpec]
    if request.tool_choice not in (None, "auto", "required"):
        chosen = [t for t in request.tools if t.name == request.tool_choice][:1]
    elif request.parallel_tool_calls is False:
        chosen = list(request.tools[:1])
    else:
        chosen = list(request.tools[:2])
    seed = hashlib.sha256(last.text().encode()).hexdigest()
    return tuple(
        ToolCall(
            id=f"call_{seed[i * 8 : (i + 1) * 8]}{i}",
            name=tool.name,
            arguments=orjson.dumps(_arguments(tool.parameters)).decode(),
        )
        for i, tool in enumerate(chosen)
    )


def reply_text(request: ChatRequest, choice: int = 0) -> str:
    """The demo model's answer for this request."""
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema":
        return orjson.dumps(sample_value(fmt.schema or {"type": "object"})).decode()
    if fmt is not None and fmt.type == "json_object":
        return orjson.dumps({"answer": "demo"}).decode()
    last = _last_turn(request)
    if last is None:
        text = "Hello from the Tollhouse demo model."
    elif last.role == "tool":
        text = f"The tool returned: {last.text()}"
    else:
        said = " ".join(last.text().split())[:200]
        text = f"Hello from the Tollhouse demo model. You said: {said}"
    return text if choice == 0 else f"{text} (choice {choice})"


def cut(text: str, request: ChatRequest) -> tuple[str, str]:
    """Apply ``stop`` and ``max_tokens`` (words stand in for tokens); return text and finish."""
    finish = "stop"
    for stop in request.stop:
        at = text.find(stop)
        if stop and at >= 0:
            text = text[:at]
    if request.max_tokens is not None:
        words = text.split(" ")
        if len(words) > request.max_tokens:
            text, finish = " ".join(words[: request.max_tokens]), "length"
    return text, finish
