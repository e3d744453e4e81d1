"""The phone library is asked about each distinct number once, and never about shapes no phone
number is written in: texts of digit groups ("1 2 3 …", "(123) (456) …") made one failing
check (about 75 µs) per group, 37 µs a character — minutes for a large request body."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.pii import PIIDetector
from tollhouse.guards.verdict import Scope


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The numbers handed to the phone library (its parse still runs)."""
    seen: list[str] = []
    parse = phonenumbers.parse

    def counted(number: str, region: str | None = None) -> phonenumbers.PhoneNumber:
        seen.append(number)
        return parse(number, region)

    monkeypatch.setattr(phonenumbers, "parse", counted)
    return seen


def _findings(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in PIIDetector().detect(text, Scope.USER, CallState())]


def test_digit_garbage_never_reaches_the_phone_library(parses: list[str]) -> None:
    rng = random.Random(7)
    singles = " ".join(str(rng.randint(0, 9)) for _ in range(20_000))
    brackets = " ".join(f"({rng.randint(100, 999)})" for _ in range(5_000))
    for text in (singles, brackets):
        assert "PHONE" not in {kind for kind, _ in _findings(text)}  # (Luhn-valid runs may be cards)
    assert parses == []


def test_a_repeated_number_is_checked_once_and_found_every_time(parses: list[str]) -> None:
    text = "Call +1 (415) 555-0132 today. " * 500
    assert _findings(text) == [("PHONE", "+1 (415) 555-0132")] * 500
    assert parses == ["+1 (415) 555-0132"]


@pytest.mark.parametrize(
    "phone",
    [
        "+1 (415) 555-0132",
        "+44 20 7946 0958",
        "+33 1 23 45 67 89",
        "(415) 555-0132 ext. 12",
        "+49 (0) 30 1234567",
    ],
)
def test_phone_shapes_still_reach_it(phone: str) -> None:
    assert _findings(f"my number is {phone}, thanks") == [("PHONE", phone)]
