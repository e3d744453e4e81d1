"""Canonical responses → Responses ``response`` objects (also the stream's lifecycle snapshots).

The request's settings are echoed field by field from the validated caller body, as OpenAI
does; the gateway stores nothing, so ``store`` is always false.
"""

from __future__ import annotations

from typing import Any

from tollhouse.model.chat import ChatResponse, FinishReason, ReasoningPart, TextPart, Usage

_INCOMPLETE: dict[FinishReason | None, str] = {
    "length": "max_output_tokens",
    "content_filter": "content_filter",
}
# Request fields a response object repeats back, with the default when the caller left them out.
_ECHO: tuple[tuple[str, Any], ...] = (
    ("instructions", None),
    ("max_output_tokens", None),
    ("metadata", {}),
    ("parallel_tool_calls", True),
    ("temperature", 1.0),
    ("tool_choice", "auto"),
    ("tools", []),
    ("top_p", 1.0),
    ("user", None),
)


def response_id(upstream_id: str) -> str:
    return upstream_id if upstream_id.startswith("resp_") else f"resp_{upstream_id}"


def encode_usage(usage: Usage | None) -> dict[str, Any]:
    usage = usage or Usage()
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cached_tokens or 0,
            "cache_write_tokens": usage.cache_write_tokens or 0,
        },
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.total_tokens,
    }


def response_object(
    rid: str,
    created: int,
    model: str,
    request: dict[str, Any],
    output: list[dict[str, Any]],
    status: str,
    finish: FinishReason | None = None,
    usage: Usage | None = None,
) -> dict[str, Any]:
    """A ``response`` object; ``usage`` only once the answer is complete."""
    body: dict[str, Any] = {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "model": model,
        "output": output,
        "previous_response_id": None,
        "reasoning": {"effort": (request.get("reasoning") or {}).get("effort"), "summary": None},
        "store": False,
        "text": request.get("text") or {"format": {"type": "text"}},
        "truncation": "disabled",
        "usage": None,
    }
    for key, default in _ECHO:
        value = request.get(key)
        body[key] = default if value is None else value
    if status == "incomplete":
        body["incomplete_details"] = {"reason": _INCOMPLETE.get(finish, "max_output_tokens")}
    if status in ("completed", "incomplete"):
        body["usage"] = encode_usage(usage)
    return body


def final_status(finish: FinishReason | None) -> str:
    return "incomplete" if finish in _INCOMPLETE else "completed"


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = (
        [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
        if text or status == "completed"
        else []
    )
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": text}],
    }


def function_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def encode_response(response: ChatResponse, request: dict[str, Any]) -> dict[str, Any]:
    """A ``ChatResponse`` (its first choice) as a ``response`` object."""
    choice = response.choices[0]
    message = choice.message
    rid = response_id(response.id)
    output: list[dict[str, Any]] = []
    texts: list[str] = []
    if isinstance(message.content, str):
        texts.append(message.content)
    elif message.content is not None:
        for part in message.content:
            if isinstance(part, ReasoningPart) and part.text:
                output.append(reasoning_item(f"rs_{rid}_{len(output)}", part.text))
            elif isinstance(part, TextPart):
                texts.append(part.text)
    text = "".join(texts)
    if text or not message.tool_calls:
        output.append(message_item(f"msg_{rid}_{len(output)}", text))
    for call in message.tool_calls:
        output.append(function_item(f"fc_{rid}_{len(output)}", call.id, call.name, call.arguments))
    status = final_status(choice.finish_reason)
    return response_object(
        rid, response.created, response.model, request, output, status, choice.finish_reason, response.usage
    )
