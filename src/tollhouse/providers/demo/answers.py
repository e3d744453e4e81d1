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


def sample_value(schema: Any, key: str = "value") -> Any:
    """A value that satisfies a simple JSON Schema, the same every time for the same schema."""
    if not isinstance(schema, dict):
        return key
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)
        # Required keys without a declared schema still get a value: the schema demands them.
        return {name: sample_value(props.get(name), name) for name in required}
    if kind == "array":
        return [sample_value(schema.get("items"), key)]
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        value = low if low is not None else (min(1, high) if high is not None else 1)
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return f"demo-{key}"


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
            arguments=orjson.dumps(sample_value(tool.parameters or {"type": "object"})).decode(),
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
