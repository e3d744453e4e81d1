"""The OpenAI Responses surface to every provider family (chat, stream, tools): the
compatibility matrix's ``responses`` table. The official ``openai`` SDK's ``client.responses``
calls one gateway fronting a fake of each provider (``tests/support/fleet.py``), reached
through the canonical translation; every test checks what that family's fake produced."""

from __future__ import annotations

import json
from typing import Any

import openai
from openai.types.responses import Response

from tests.fakes.answers import TOOL_SCHEMAS, WORD_SCHEMA, reply_to
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.fleet import ERROR_STATUSES, NAMES, Family, Fleet

QUESTION = "What is a tollhouse?"
TOOLS: list[Any] = [{"type": "function", "name": name, "parameters": schema} for name, schema in TOOL_SCHEMAS]


def _usage(response: Response) -> tuple[int, int]:
    assert response.usage is not None
    return response.usage.input_tokens, response.usage.output_tokens


@covers("responses", NAMES, "basic", "system", "usage")
def test_response(openai_sdk: openai.OpenAI, fleet: Fleet, family: Family) -> None:
    response = openai_sdk.responses.create(model=family.name, input=QUESTION, instructions="Be brief.")
    assert response.status == "completed"
    assert response.output_text == reply_to(QUESTION)
    assert _usage(response) == fleet.usage(family)


@covers("responses", NAMES, "stream_text", "usage")
def test_stream(openai_sdk: openai.OpenAI, fleet: Fleet, family: Family) -> None:
    events = list(
        openai_sdk.responses.create(model=family.name, input=QUESTION, instructions="Be brief.", stream=True)
    )
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1  # really streamed
    final = events[-1]
    assert final.type == "response.completed"
    assert "".join(deltas) == final.response.output_text == reply_to(QUESTION)
    assert _usage(final.response) == fleet.usage(family)


def _calls(response: Response, family: Family) -> list[Any]:
    calls = [item for item in response.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert [json.loads(c.arguments) for c in calls] == list(family.answers.tool_args)
    return calls


@covers("responses", NAMES, "tools", "tool_results", "parallel_tools")
def test_tools(openai_sdk: openai.OpenAI, family: Family) -> None:
    calls = _calls(openai_sdk.responses.create(model=family.name, input=QUESTION, tools=TOOLS), family)
    follow_up: list[Any] = [
        {"role": "user", "content": QUESTION},
        *(
            {"type": "function_call", "call_id": c.call_id, "name": c.name, "arguments": c.arguments}
            for c in calls
        ),
        *(
            {"type": "function_call_output", "call_id": c.call_id, "output": output}
            for c, output in zip(calls, ["sunny", "noon"], strict=True)
        ),
    ]
    answer = openai_sdk.responses.create(model=family.name, input=follow_up, tools=TOOLS)
    assert answer.output_text == family.answers.tool_answer(["sunny", "noon"])


@covers("responses", NAMES, "stream_tools", "usage")
def test_stream_tools(openai_sdk: openai.OpenAI, fleet: Fleet, family: Family) -> None:
    with openai_sdk.responses.stream(model=family.name, input=QUESTION, tools=TOOLS) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    _calls(final, family)
    assert "response.function_call_arguments.delta" in kinds
    assert _usage(final) == fleet.usage(family)


@covers("responses", NAMES, "json_schema")
def test_json_schema(openai_sdk: openai.OpenAI, family: Family) -> None:
    response = openai_sdk.responses.create(
        model=family.name,
        input=QUESTION,
        text={"format": {"type": "json_schema", "name": "answer", "schema": WORD_SCHEMA}},
    )
    assert json.loads(response.output_text) == family.answers.json_answer


@covers("responses", NAMES, "errors")
def test_errors(openai_sdk: openai.OpenAI, family: Family) -> None:
    aliases = {s: family.error_alias(s) for s in ERROR_STATUSES}
    sdk_checks.check_errors(
        openai_sdk,
        aliases,
        family.answers,
        lambda alias: openai_sdk.responses.create(model=alias, input=QUESTION),
    )
