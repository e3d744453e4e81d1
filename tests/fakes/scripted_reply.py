"""What every native fake answers, decided from the request it received (in neutral terms).

Tools offered and no tool result yet → call up to two of them (parallel calls) with
arguments that satisfy their schemas; a JSON schema asked for → a matching JSON object;
otherwise ``fake reply to: <last user text>`` (or ``fake answer from tools: …`` after tool
results). Images in the last user turn are named in that text by ``image_note`` (format
from the bytes, size, digest), so a test proves the bytes arrived intact. Token counts are
word counts, so tests can check that usage arrives.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif"), (b"RIFF", "webp"))


@dataclass
class Plan:
    text: str | None = None
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (id, name, args)
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0


def image_note(data: bytes) -> str:
    """How a fake names an image it received: ``[image png 70 bytes sha256:…]``."""
    kind = next((name for magic, name in _MAGIC if data.startswith(magic)), "unknown")
    return f"[image {kind} {len(data)} bytes sha256:{hashlib.sha256(data).hexdigest()[:12]}]"


def base64_note(data: str) -> str:
    """``image_note`` for base64 text; text that is not base64 is named as such."""
    try:
        return image_note(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return "[image not base64]"


def data_url_note(url: str) -> str:
    """``image_note`` for a ``data:`` URL; another URL is named as it is (fakes fetch nothing)."""
    head, sep, data = url.partition(",")
    if not (url.startswith("data:") and sep and head.endswith(";base64")):
        return f"[image {url}]"
    return base64_note(data)


def openai_content_text(content: Any) -> str:
    """The text of OpenAI-shaped message content (a string, or ``text`` / ``image_url`` parts),
    images named by ``data_url_note``; the shape Azure, Cohere v2 and Mistral share."""
    if not isinstance(content, list):
        return "" if content is None else str(content)
    out: list[str] = []
    for part in content:
        if part.get("type") == "text":
            out.append(str(part.get("text", "")))
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            out.append(data_url_note(image.get("url", "") if isinstance(image, dict) else str(image)))
    return " ".join(out)


def tool_results(messages: list[dict[str, Any]]) -> list[str]:
    """The contents of the ``tool`` messages that end a conversation, oldest first: what the
    next answer reports on (an OpenAI-shaped message list, as Azure, Cohere v2 and Ollama send)."""
    results: list[str] = []
    for message in reversed(messages):
        if message["role"] != "tool":
            break
        results.insert(0, str(message["content"]))
    return results


def sample(schema: Any, key: str = "value") -> Any:
    """A value satisfying a simple JSON Schema."""
    if not isinstance(schema, dict):
        return key
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind.lower() if isinstance(kind, str) else kind
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: sample(v, k) for k, v in props.items()}
    if kind == "array":
        return [sample(schema.get("items"), key)]
    if kind in ("integer", "number"):
        return 7
    if kind == "boolean":
        return True
    return f"{key}-sample"


def plan(
    last_user_text: str,
    tools: list[tuple[str, Any]],
    tool_results: list[str],
    json_schema: Any = None,
    prompt_words: int = 0,
) -> Plan:
    """The reply to a request with ``tools`` (name, schema) offered and ``tool_results`` sent back."""
    if tools and not tool_results:
        calls = [(f"call_{i + 1:02d}", name, sample(schema)) for i, (name, schema) in enumerate(tools[:2])]
        words = sum(len(orjson.dumps(args)) // 4 + 1 for _, _, args in calls)
        return Plan(calls=calls, input_tokens=prompt_words, output_tokens=words)
    if json_schema is not None:
        text = orjson.dumps(sample(json_schema)).decode()
    elif tool_results:
        text = "fake answer from tools: " + "; ".join(tool_results)
    else:
        text = f"fake reply to: {last_user_text}"
    return Plan(text=text, input_tokens=prompt_words, output_tokens=len(text.split()))


def pieces(text: str, size: int = 4) -> list[str]:
    """``text`` in small pieces, as a model streams it (arguments split across many chunks)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
