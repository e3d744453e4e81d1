"""The stream window: hold-back, cuts, redaction and placeholders across deltas, tool calls."""

from __future__ import annotations

import pytest

from tollhouse.errors import ApprovalRequired, GuardBlocked, GuardUnavailable
from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.keywords import KeywordDetector
from tollhouse.guards.detectors.pii import PIIDetector
from tollhouse.guards.detectors.secrets import SecretsDetector
from tollhouse.guards.guard import ALL_SCOPES, Guard
from tollhouse.guards.stream_window import GuardTally, StreamWindow
from tollhouse.guards.verdict import Action, Finding, Scope
from tollhouse.model.chat import Usage
from tollhouse.model.stream import Finish, StreamEvent, StreamStart, TextDelta, ToolCallDelta, UsageReport

STAGES = frozenset({"stream", "tool_args"})


def _guard(detector: object, action: Action = Action.BLOCK, fail_open: bool = False, gid: str = "g") -> Guard:
    return Guard(gid, "test", detector, action, STAGES, ALL_SCOPES, fail_open)  # type: ignore[arg-type]


def _window(
    text: tuple[Guard, ...] = (),
    tools: tuple[Guard, ...] = (),
    state: CallState | None = None,
    hold_back: int = 10,
    dry_run: bool = False,
) -> tuple[StreamWindow, list[dict[str, GuardTally]]]:
    reports: list[dict[str, GuardTally]] = []
    window = StreamWindow(
        text,
        tools,
        state or CallState(),
        hold_back=hold_back,
        restore_placeholders=True,
        dry_run=dry_run,
        report=reports.append,
    )
    return window, reports


def _text(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_text_is_released_hold_back_characters_behind() -> None:
    window, reports = _window(hold_back=10)
    assert window.feed(StreamStart("id", "m", 1)) == [StreamStart("id", "m", 1)]
    assert window.feed(TextDelta("one two ")) == []
    assert _text(window.feed(TextDelta("three four"))) == "one two "  # 18 characters, 10 held
    out = window.feed(Finish("stop"))
    assert _text(out) == "three four" and out[-1] == Finish("stop")
    assert window.finish() == [] and len(reports) == 1


def test_words_are_released_whole() -> None:
    window, _ = _window(hold_back=3)
    assert _text(window.feed(TextDelta("alpha beta gam"))) == "alpha beta "  # "gam" may go on
    assert _text(window.feed(TextDelta("ma delta"))) == "gamma "  # the line falls inside "delta"


def test_a_block_cuts_before_the_finding() -> None:
    window, reports = _window((_guard(SecretsDetector()),), hold_back=8)
    released = window.feed(TextDelta("clean text here. key AKIAIOSF"))
    assert _text(released) == "clean text here. key "
    out = window.feed(TextDelta("ODNN7EXAMPLE rest"))
    assert out == [Finish("content_filter")]
    assert isinstance(window.blocked, GuardBlocked)
    assert "AKIA" not in _text(released)
    assert window.feed(TextDelta("more")) == []
    assert reports[0]["g"].outcome == "block"


def test_redaction_spans_deltas_and_waits_for_the_end_of_a_finding() -> None:
    window, _ = _window((_guard(PIIDetector(frozenset({"EMAIL"})), Action.REDACT),), hold_back=4)
    out = window.feed(TextDelta("mail jo"))
    out += window.feed(TextDelta("hn@example.c"))
    assert "john" not in _text(out)
    out += window.feed(TextDelta("om now please"))
    out += window.feed(Finish("stop"))
    assert _text(out) == "mail [REDACTED EMAIL] now please"


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("4111 1111 1111 1111", "CREDIT_CARD"),
        ("DE89 3704 0044 0532 0130 00", "IBAN"),
        ("GB82 WEST 1234 5698 7654 32", "IBAN"),
        ("+44 20 7946 0958", "PHONE"),
    ],
)
@pytest.mark.parametrize("pieces", ["words", "characters"])
def test_a_number_in_groups_longer_than_the_hold_back_is_redacted_whole(
    number: str, kind: str, pieces: str
) -> None:
    window, _ = _window((_guard(PIIDetector(), Action.REDACT),), hold_back=8)
    text = f"Please use {number} for it, thanks a lot."
    deltas = [w + " " for w in text.split()] if pieces == "words" else list(text)
    out: list[StreamEvent] = []
    for delta in deltas:
        out += window.feed(TextDelta(delta))
        released = _text(out)
        # Not even the first group leaves before the whole number is seen.
        assert number.split()[0] not in released, released
    out += window.feed(Finish("stop"))
    assert _text(out).strip() == f"Please use [REDACTED {kind}] for it, thanks a lot."


def test_an_address_is_held_while_its_city_and_zip_may_still_follow() -> None:
    window, _ = _window((_guard(PIIDetector(frozenset({"ADDRESS"})), Action.REDACT),), hold_back=24)
    text = "Send it to 14406 Edward Ferry, North Nathanborough, MO 30914 by Monday, thank you."
    out: list[StreamEvent] = []
    for word in text.split():
        out += window.feed(TextDelta(word + " "))
        assert "Edward" not in _text(out) and "North" not in _text(out)
    out += window.feed(Finish("stop"))
    # One address, as a JSON answer redacts it: the street alone is an address too, but it
    # was not released before the rest could arrive.
    assert _text(out).strip() == "Send it to [REDACTED ADDRESS] by Monday, thank you."


def test_numbers_in_ordinary_text_are_released_behind_the_line() -> None:
    window, _ = _window(hold_back=8)
    out = window.feed(TextDelta("Room 101 is on floor 3 of building 7 by the lift, "))
    assert _text(out).startswith("Room 101 is on floor 3 of building 7 by")
    out += window.feed(TextDelta("NOT 42 WORDS IN CAPITALS HERE PLEASE. ok"))
    assert _text(out).endswith("the lift, NOT 42 WORDS IN CAPITALS HERE ")  # runs without digits go


def test_placeholders_are_restored_even_when_split() -> None:
    state = CallState()
    state.placeholder("EMAIL", "ann@example.org")
    window, _ = _window(state=state, hold_back=2)
    out: list[StreamEvent] = []
    for piece in ["write to <EM", "AIL", "_1> to", "day"]:
        out += window.feed(TextDelta(piece))
    out += window.finish()
    assert _text(out) == "write to ann@example.org today"


def test_tool_calls_are_checked_whole() -> None:
    approval = _guard(KeywordDetector(patterns=[r"rm -rf"]), Action.REQUIRE_APPROVAL)
    window, _ = _window(tools=(approval,))
    assert window.feed(ToolCallDelta(0, '{"cmd": "rm', id="c", name="sh")) == []
    assert window.feed(ToolCallDelta(0, ' -rf /"}')) == []
    assert window.feed(Finish("tool_calls")) == [Finish("content_filter")]
    assert isinstance(window.blocked, ApprovalRequired)

    window, _ = _window(tools=(approval,))
    window.feed(ToolCallDelta(0, '{"cmd": ', id="c", name="sh"))
    window.feed(ToolCallDelta(0, '"ls"}'))
    first = window.feed(ToolCallDelta(1, "{}", id="d", name="pwd"))
    assert first == [ToolCallDelta(0, '{"cmd": "ls"}', "c", "sh")]
    assert window.feed(Finish("tool_calls")) == [ToolCallDelta(1, "{}", "d", "pwd"), Finish("tool_calls")]


def test_usage_is_held_to_the_end() -> None:
    window, _ = _window()
    usage = UsageReport(Usage(1, 2))
    assert window.feed(usage) == []
    assert window.feed(TextDelta("hi")) == []
    assert window.finish() == [TextDelta("hi"), usage]


def test_dry_run_records_without_acting() -> None:
    window, reports = _window((_guard(SecretsDetector()),), dry_run=True, hold_back=0)
    out = window.feed(TextDelta("AKIAIOSFODNN7EXAMPLE "))
    out += window.finish()
    assert _text(out) == "AKIAIOSFODNN7EXAMPLE " and window.blocked is None
    assert reports[0]["g"].outcome == "block"


class _Broken:
    name = "broken"

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        raise RuntimeError("bug")


def test_guard_errors_follow_the_fail_mode() -> None:
    window, reports = _window((_guard(_Broken(), fail_open=True),), hold_back=0)
    assert _text(window.feed(TextDelta("fine"))) == "fine"
    window.finish()
    assert reports[0]["g"].error == "RuntimeError in guard g"
    window, _ = _window((_guard(_Broken()),), hold_back=0)
    assert window.feed(TextDelta("fine")) == [Finish("content_filter")]
    assert isinstance(window.blocked, GuardUnavailable)
