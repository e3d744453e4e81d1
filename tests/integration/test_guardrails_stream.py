"""Guarded streams on the OpenAI passthrough lane: text is held back, a secret is cut before
any of it is emitted (wherever the chunk boundaries fall), PII is redacted across chunks,
tool-call arguments are checked whole before any is sent, placeholders are restored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.guard_webhook import GuardWebhook
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.scripted_openai import Script, ScriptedOpenAI
from tests.support.gateway import RunningGateway
from tests.support.guarded import AWS_KEY, chat, error_of, finish_reasons, guarded_config, streamed_text, user

PREFIX = "The deployment finished without errors and the logs are clean. "  # 64 characters


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def gw(fake_openai: FakeOpenAI, scripted: ScriptedOpenAI) -> Iterator[RunningGateway]:
    with (
        GuardWebhook() as webhook,
        RunningGateway(guarded_config(fake_openai.base_url, scripted.base_url, webhook.base_url)) as gateway,
    ):
        yield gateway


def _assert_cut_before(events: list[tuple[str, object]], full: str, secret: str) -> str:
    text = streamed_text(events)
    assert full.startswith(text)  # only what came before the secret, unchanged
    assert len(text) <= full.index(secret)
    assert secret[:4] not in text
    assert finish_reasons(events)[-1] == "content_filter"
    error = error_of(events)
    assert error is not None and error["code"] == "content_filter"
    assert secret not in str(events)
    return text


@pytest.mark.parametrize(
    "pieces",
    [
        [PREFIX, "Use key AKIA", "IOSFODNN7", "EXAMPLE now."],  # split across three chunks
        [PREFIX, "Use key A", "K", "I", "AIOSFODNN7EXAMPL", "E now."],  # split into single letters
        [*(w + " " for w in PREFIX.split()), f"Use key {AWS_KEY} now."],  # whole, in chunk k after many
        [PREFIX + f"Use key {AWS_KEY} now."],  # one chunk
    ],
)
@pytest.mark.parametrize("write_size", [0, 7])
def test_a_secret_is_cut_before_any_of_it_is_emitted(
    gw: RunningGateway, scripted: ScriptedOpenAI, pieces: list[str], write_size: int
) -> None:
    scripted.script = Script(pieces=pieces, write_size=write_size)
    status, events = chat(gw.url, "output-scripted", user("status?"), stream=True)
    assert status == 200
    full = "".join(pieces)
    text = _assert_cut_before(events, full, AWS_KEY)
    if len(pieces) > 1:
        assert text  # the hold-back window released what lay far enough behind


def test_pii_is_redacted_across_chunk_boundaries(gw: RunningGateway, scripted: ScriptedOpenAI) -> None:
    scripted.script = Script(
        pieces=["Contact jo", "hn.smith@exam", "ple.com today, or ", "call +1 415", "-555-0132."]
    )
    status, events = chat(gw.url, "output-scripted", user("who?"), stream=True)
    assert status == 200
    assert streamed_text(events) == "Contact [REDACTED EMAIL] today, or call [REDACTED PHONE]."
    assert finish_reasons(events) == ["stop"]
    assert events[-1] == ("", "[DONE]")


@pytest.mark.parametrize("write_size", [0, 5])
def test_tool_call_arguments_are_checked_before_any_is_emitted(
    gw: RunningGateway, scripted: ScriptedOpenAI, write_size: int
) -> None:
    scripted.script = Script(
        pieces=[], tool_calls=[("deploy", ['{"key": "AKIA', "IOSFODNN7EXA", 'MPLE"}'])], write_size=write_size
    )
    status, events = chat(gw.url, "tools", user("deploy"), stream=True)
    assert status == 200
    assert "tool_calls" not in str(events)  # not even the call's name went out
    assert error_of(events) is not None and finish_reasons(events)[-1] == "content_filter"


def test_a_streamed_tool_call_can_require_approval(gw: RunningGateway, scripted: ScriptedOpenAI) -> None:
    scripted.script = Script(pieces=[], tool_calls=[("sql", ['{"q": "DROP', ' TABLE users"}'])])
    status, events = chat(gw.url, "tools", user("tidy"), stream=True)
    error = error_of(events)
    assert status == 200 and error is not None and error["code"] == "approval_required"
    assert "DROP" not in str(events)


def test_an_allowed_tool_call_is_emitted_whole(gw: RunningGateway, scripted: ScriptedOpenAI) -> None:
    scripted.script = Script(pieces=[], tool_calls=[("sql", ['{"q": "SELECT', ' 1"}'])])
    status, events = chat(gw.url, "tools", user("query"), stream=True)
    calls = [
        c
        for _, d in events
        if isinstance(d, dict)
        for ch in d.get("choices") or ()
        for c in ch["delta"].get("tool_calls") or ()
    ]
    assert status == 200 and len(calls) == 1
    assert calls[0]["function"] == {"name": "sql", "arguments": '{"q": "SELECT 1"}'}
    assert finish_reasons(events) == ["tool_calls"]


def test_placeholders_are_restored_across_chunks(gw: RunningGateway, upstream: FakeOpenAI) -> None:
    text = "Please write to jane.doe@example.com and to jane.doe@example.com again"
    status, events = chat(gw.url, "strict", user(text), stream=True)
    assert status == 200
    assert "jane.doe" not in upstream.last_request.body.decode()
    assert streamed_text(events) == f"fake reply to: {text}"


def test_usage_is_still_reported(gw: RunningGateway, scripted: ScriptedOpenAI) -> None:
    scripted.script = Script(pieces=["plain ", "text"])
    status, events = chat(
        gw.url, "output-scripted", user("hi"), stream=True, stream_options={"include_usage": True}
    )
    assert status == 200 and streamed_text(events) == "plain text"
    usage = [d["usage"] for _, d in events if isinstance(d, dict) and d.get("usage")]
    assert usage and usage[-1]["total_tokens"] > 0
