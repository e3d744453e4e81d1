"""What the fakes answer to the requests the SDK tests send, in the terms the tests compare.

Two planners stand behind the fakes: ``scripted_reply`` (the native-provider fakes) and
``openai_chat`` (FakeOpenAI, and FakeMistral which plans as it does). Both answer a question
with ``fake reply to: <question>``; they differ in tool arguments, the answer after tool
results, the JSON they make for a schema and their error messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# The tools and the JSON schema the tests offer (the answers below are for these).
TOOL_SCHEMAS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("get_weather", {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    ("get_time", {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]}),
)
WORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"word": {"type": "string"}},
    "required": ["word"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Answers:
    tool_args: tuple[dict[str, Any], ...]  # arguments of the calls to the TOOL_SCHEMAS tools
    tool_answer_prefix: str  # then the tool results, joined by "; "
    json_answer: dict[str, Any]  # for WORD_SCHEMA
    errors: Mapping[int, str] = field(default_factory=dict)  # status → part of the upstream's message

    def tool_answer(self, results: list[str]) -> str:
        return self.tool_answer_prefix + "; ".join(results)


SCRIPTED = Answers(
    ({"city": "city-sample"}, {"tz": "tz-sample"}),
    "fake answer from tools: ",
    {"word": "word-sample"},
    {400: "scripted failure for error-400", 429: "scripted failure for error-429"},
)
PLANNED = Answers(
    ({"city": "fake-city"}, {"tz": "fake-tz"}),
    "fake reply to tool result: ",
    {"word": "fake-word"},
    {400: "Invalid request (injected by the fake upstream).", 429: "Rate limit reached for error-429"},
)
MISTRAL = replace(PLANNED, errors=SCRIPTED.errors)  # planned as FakeOpenAI, failing as the native fakes


def reply_to(question: str) -> str:
    """What every fake answers to a question (with its images named by ``image_note``)."""
    return f"fake reply to: {question}"
