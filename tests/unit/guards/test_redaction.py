"""Redaction: typed placeholders in, restored out; masks on output never restored."""

from __future__ import annotations

from tollhouse.guards.detector import CallState
from tollhouse.guards.redaction import open_placeholder, redact, restore
from tollhouse.guards.verdict import Finding


def test_placeholders_are_typed_consistent_and_restorable() -> None:
    state = CallState()
    text = "a@x.io then b@x.io then a@x.io"
    findings = [Finding("EMAIL", 0, 6), Finding("EMAIL", 12, 18), Finding("EMAIL", 24, 30)]
    redacted = redact(text, findings, state, reversible=True)
    assert redacted == "<EMAIL_1> then <EMAIL_2> then <EMAIL_1>"
    assert restore(redacted, state) == text
    assert restore("<EMAIL_9> stays", state) == "<EMAIL_9> stays"  # not ours


def test_output_masks_and_overlaps() -> None:
    state = CallState()
    out = redact("key AKIA123 end", [Finding("AWS", 4, 11), Finding("X", 6, 9)], state, reversible=False)
    assert out == "key [REDACTED AWS] end"
    assert state.placeholders == {}
    assert redact("abc", [Finding("K", 0, 1, replacement="#")], state, reversible=True) == "#bc"


def test_open_placeholder() -> None:
    assert open_placeholder("text <EMA") == 5
    assert open_placeholder("text <EMAIL_1> x") == -1
    assert open_placeholder("a < b and more") == -1


def test_lower_case_and_punctuated_kinds_are_restorable() -> None:
    state = CallState()
    text = "Project X, re invoice 7"
    findings = [Finding("keyword", 0, 9), Finding("topic:billing", 14, 21)]
    redacted = redact(text, findings, state, reversible=True)
    assert redacted == "<KEYWORD_1>, re <TOPIC_BILLING_1> 7"
    assert restore(redacted, state) == text
