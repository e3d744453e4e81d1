"""TextView: every text of every supported format, with its scope and a path that writes back."""

from __future__ import annotations

import copy
from typing import Any

from tollhouse.guards.verdict import Scope
from tollhouse.guards.view import request_view, response_view, write

CHAT: dict[str, Any] = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "sys"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "x"}}],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "1", "content": "result"},
    ],
}
ANTHROPIC: dict[str, Any] = {
    "model": "m",
    "system": [{"type": "text", "text": "sys"}],
    "messages": [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"q": ["deep"]}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "res"}]}
            ],
        },
    ],
}
RESPONSES: dict[str, Any] = {
    "model": "m",
    "instructions": "sys",
    "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c", "output": "res"},
    ],
}


def _pairs(surface: str, payload: dict[str, Any]) -> list[tuple[Scope, str]]:
    return [(s.scope, s.text) for s in request_view(surface, payload).segments]


def test_openai_chat_request() -> None:
    assert _pairs("chat", CHAT) == [
        (Scope.SYSTEM, "sys"),
        (Scope.USER, "hi"),
        (Scope.TOOL_INPUT, '{"a": 1}'),
        (Scope.TOOL_OUTPUT, "result"),
    ]


def test_anthropic_request_walks_tool_inputs() -> None:
    assert _pairs("messages", ANTHROPIC) == [
        (Scope.SYSTEM, "sys"),
        (Scope.USER, "hi"),
        (Scope.TOOL_INPUT, "deep"),
        (Scope.TOOL_OUTPUT, "res"),
    ]


def test_responses_request() -> None:
    assert _pairs("responses", RESPONSES) == [
        (Scope.SYSTEM, "sys"),
        (Scope.USER, "hi"),
        (Scope.TOOL_INPUT, "{}"),
        (Scope.TOOL_OUTPUT, "res"),
    ]


def test_embeddings_and_unknown_surfaces() -> None:
    assert _pairs("embeddings", {"input": ["a", "b"]}) == [(Scope.USER, "a"), (Scope.USER, "b")]
    assert _pairs("models", {"input": "a"}) == []


def test_paths_write_back_in_place() -> None:
    for surface, payload in (("chat", CHAT), ("messages", ANTHROPIC), ("responses", RESPONSES)):
        doc = copy.deepcopy(payload)
        for segment in request_view(surface, doc).segments:
            write(doc, segment.path, segment.text.upper())
        assert [t for _, t in _pairs(surface, doc)] == [t.upper() for _, t in _pairs(surface, payload)]


def test_response_views() -> None:
    chat = {"choices": [{"message": {"content": "a", "tool_calls": [{"function": {"arguments": "{}"}}]}}]}
    assert [(s.scope, s.text) for s in response_view("chat", chat).segments] == [
        (Scope.ASSISTANT, "a"),
        (Scope.TOOL_INPUT, "{}"),
    ]
    message = {"content": [{"type": "text", "text": "a"}, {"type": "tool_use", "input": {"x": "y"}}]}
    assert [s.text for s in response_view("messages", message).segments] == ["a", "y"]
    response = {
        "output": [
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a"}]}
        ]
    }
    assert [(s.scope, s.text) for s in response_view("responses", response).segments] == [
        (Scope.ASSISTANT, "a")
    ]
