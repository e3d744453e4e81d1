"""Canonical chat request → Gemini ``GenerateContentRequest``, field by field."""

from __future__ import annotations

import mimetypes
from typing import Any

import orjson

from tollhouse.errors import InvalidRequest
from tollhouse.model.chat import (
    AudioPart,
    ChatRequest,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
)
from tollhouse.providers.gemini.schema import has_parameters, to_gemini_schema
from tollhouse.providers.gemini.wire import (
    SIGNATURE_SEPARATOR,
    Content,
    FunctionDeclaration,
    GenerateContentRequest,
    GenerationConfig,
    Part,
    SystemInstruction,
    Tool,
    ToolConfig,
)
from tollhouse.providers.media import file_data, parse_data_url
from tollhouse.providers.tool_args import parse_arguments

# OpenAI's reasoning_effort as a thinking budget in tokens.
_EFFORT_BUDGET = {"minimal": 0, "low": 1024, "medium": 8192, "high": 24576}


def _media(url: str, mime: str | None = None) -> Part:
    inline = parse_data_url(url)
    if inline is not None:
        return {"inlineData": {"mimeType": inline.media_type, "data": inline.data}}
    guessed = mime or mimetypes.guess_type(url)[0] or "application/octet-stream"
    return {"fileData": {"mimeType": guessed, "fileUri": url}}


def _part(part: ContentPart) -> Part | None:
    if isinstance(part, TextPart):
        return {"text": part.text}
    if isinstance(part, ImagePart):
        return _media(part.url)
    if isinstance(part, AudioPart):
        return {"inlineData": {"mimeType": f"audio/{part.format}", "data": part.data}}
    if isinstance(part, FilePart):
        if part.data is not None:
            inline = file_data(part.data)
            return {"inlineData": {"mimeType": inline.media_type, "data": inline.data}}
        if part.file_id is not None:
            return _media(part.file_id, "application/pdf" if part.file_id.endswith(".pdf") else None)
        raise InvalidRequest("a file part needs file_data or file_id", param="messages")
    assert isinstance(part, ReasoningPart)
    return None  # Gemini's thoughts are not sent back; their signatures ride on tool call ids


def _parts(content: str | tuple[ContentPart, ...] | None) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    return [p for p in map(_part, content) if p is not None]


def _call_part(call_id: str, name: str, arguments: str) -> Part:
    args = parse_arguments(arguments, call_id)
    if not isinstance(args, dict):
        raise InvalidRequest(f"tool call {call_id!r}: Gemini needs object arguments", param="messages")
    part: Part = {"functionCall": {"name": name, "args": args}}
    _, sep, signature = call_id.partition(SIGNATURE_SEPARATOR)
    if sep:
        part["thoughtSignature"] = signature
    return part


def _result_part(message: Message, names: dict[str, str]) -> Part:
    call_id = message.tool_call_id or ""
    if call_id not in names:
        raise InvalidRequest(
            f"tool result {call_id!r} answers no tool call in the conversation", param="messages"
        )
    text = message.text()
    try:
        parsed = orjson.loads(text) if text.strip().startswith("{") else None
    except orjson.JSONDecodeError:
        parsed = None
    response = parsed if isinstance(parsed, dict) else {"content": text}
    return {"functionResponse": {"name": names[call_id], "response": response}}


def _contents(messages: tuple[Message, ...]) -> list[Content]:
    names = {c.id: c.name for m in messages for c in m.tool_calls}
    out: list[Content] = []
    for message in messages:
        if message.role in ("system", "developer"):
            continue
        if message.role == "assistant":
            role = "model"
            parts = _parts(message.content) + [
                _call_part(c.id, c.name, c.arguments) for c in message.tool_calls
            ]
        elif message.role == "tool":
            role, parts = "user", [_result_part(message, names)]
        else:
            role, parts = "user", _parts(message.content)
        if out and out[-1]["role"] == role:
            out[-1]["parts"].extend(parts)
        elif parts:
            out.append({"role": role, "parts": parts})  # type: ignore[typeddict-item]
    return out


def _system(messages: tuple[Message, ...]) -> SystemInstruction | None:
    parts = [p for m in messages if m.role in ("system", "developer") for p in _parts(m.content)]
    return {"parts": parts} if parts else None


def _tools(request: ChatRequest) -> tuple[list[Tool], ToolConfig | None]:
    if not request.tools:
        return [], None
    declarations: list[FunctionDeclaration] = []
    for spec in request.tools:
        declaration: FunctionDeclaration = {"name": spec.name}
        if spec.description:
            declaration["description"] = spec.description
        if has_parameters(spec.parameters):
            declaration["parameters"] = to_gemini_schema(spec.parameters or {})
        declarations.append(declaration)
    choice = request.tool_choice
    config: ToolConfig | None = None
    if choice == "auto":
        config = {"functionCallingConfig": {"mode": "AUTO"}}
    elif choice == "required":
        config = {"functionCallingConfig": {"mode": "ANY"}}
    elif choice == "none":
        config = {"functionCallingConfig": {"mode": "NONE"}}
    elif choice is not None:
        config = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice]}}
    return [{"functionDeclarations": declarations}], config


def _number(extra: dict[str, Any], key: str) -> float | None:
    value = extra.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _generation_config(request: ChatRequest) -> GenerationConfig:
    config: GenerationConfig = {}
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    top_k = request.extra.get("top_k")
    if isinstance(top_k, int) and not isinstance(top_k, bool):
        config["topK"] = top_k
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.stop:
        config["stopSequences"] = list(request.stop)
    if request.n != 1:
        config["candidateCount"] = request.n
    if request.seed is not None:
        config["seed"] = request.seed
    for ours, theirs in (("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty")):
        value = _number(request.extra, ours)
        if value is not None:
            config[theirs] = value  # type: ignore[literal-required]
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        config["responseMimeType"] = "application/json"
        if fmt.type == "json_schema" and fmt.schema:
            config["responseSchema"] = to_gemini_schema(fmt.schema)
    if request.logprobs:
        config["responseLogprobs"] = True
        if request.top_logprobs:
            config["logprobs"] = request.top_logprobs
    effort = request.extra.get("reasoning_effort")
    if isinstance(effort, str) and effort in _EFFORT_BUDGET:
        budget = _EFFORT_BUDGET[effort]
        config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": budget > 0}
    return config


def build_request(request: ChatRequest) -> GenerateContentRequest:
    """The ``generateContent`` body for ``request`` (the model goes in the URL, not the body).

    Gemini has no switch for parallel tool calls (it may always return several), nor ``user``.
    """
    body: GenerateContentRequest = {"contents": _contents(request.messages)}
    system = _system(request.messages)
    if system is not None:
        body["systemInstruction"] = system
    tools, tool_config = _tools(request)
    if tools:
        body["tools"] = tools
    if tool_config is not None:
        body["toolConfig"] = tool_config
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    return body
