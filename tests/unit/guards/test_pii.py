"""PII: validated, not just matched — checksums and format rules reject look-alikes."""

from __future__ import annotations

import random

import pytest

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.pii import PIIDetector
from tollhouse.guards.detectors.pii_checks import dutch_bsn, french_nir, iban, luhn, spanish_id, verhoeff
from tollhouse.guards.verdict import Scope

DETECTOR = PIIDetector()


def _found(text: str, detector: PIIDetector = DETECTOR) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in detector.detect(text, Scope.USER, CallState())]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("EMAIL", "maria.lopez+billing@mail.example.co.uk"),
        ("PHONE", "+44 20 7946 0958"),
        ("PHONE", "(415) 555-0132"),
        ("PHONE", "415-555-0132 x204"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("CREDIT_CARD", "3782-822463-10005"),
        ("IBAN", "DE89 3704 0044 0532 0130 00"),
        ("IBAN", "GB29NWBK60161331926819"),
        ("US_SSN", "123-45-6789"),
        ("IP_ADDRESS", "203.0.113.42"),
        ("IP_ADDRESS", "2001:db8::8a2e:370:7334"),
        ("NATIONAL_ID", "12345678Z"),
        ("NATIONAL_ID", "AB 12 34 56 C"),
        ("ADDRESS", "1600 Amphitheatre Parkway, Mountain View, CA 94043"),
        ("ADDRESS", "221B Baker Street"),
        ("ADDRESS", "SW1A 1AA"),
    ],
)
def test_valid_values_are_found(kind: str, value: str) -> None:
    assert _found(f"Details: {value} — thanks") == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # fails Luhn
        "iban DE89 3704 0044 0532 0130 01",  # fails mod 97
        "ssn 000-12-3456 and 666-12-3456 and 912-12-3456",  # SSA never issues these
        "build 2024-01-15 at 10:30, version 2.4.1, ticket 48213",
        "the ratio 1.2.3.4.5 and 999.1.1.1",
        "DNI 12345678A",  # wrong check letter
        "meeting on 1985-03-04",  # a date, but nothing says it is a birth date
    ],
)
def test_look_alikes_are_not_pii(text: str) -> None:
    assert _found(text) == []


def test_dates_of_birth_need_context() -> None:
    assert _found("She was born on March 3, 1985 in Porto.") == [("DATE_OF_BIRTH", "March 3, 1985")]
    assert _found("DOB: 04/11/1979") == [("DATE_OF_BIRTH", "04/11/1979")]
    assert _found("date of birth 2199-01-01") == []  # in the future


def test_context_ids() -> None:
    assert _found("my SSN is 123456789") == [("US_SSN", "123456789")]
    assert _found("BSN: 111222333") == [("NATIONAL_ID", "111222333")]


def test_entities_can_be_narrowed() -> None:
    only_email = PIIDetector(frozenset({"EMAIL"}))
    assert _found("a@b.io 4111 1111 1111 1111", only_email) == [("EMAIL", "a@b.io")]


def test_checksums() -> None:
    assert luhn("79927398713") and not luhn("79927398710")
    assert iban("FR1420041010050500013M02606") and not iban("FR1420041010050500013M02607")
    assert verhoeff("2363") and not verhoeff("2364")
    assert spanish_id("X1234567L") and not spanish_id("X1234567A")
    assert dutch_bsn("111222333") and not dutch_bsn("111222334")
    assert french_nir("255081416802538") and not french_nir("255081416802539")


def test_several_emails_close_together() -> None:
    text = "cc bob@example.org; ann@example.org,joe@x.io"
    assert [v for _, v in _found(text)] == ["bob@example.org", "ann@example.org", "joe@x.io"]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("NATIONAL_ID", "X1234567L"),  # NIE: a letter before the 7 digits
        ("NATIONAL_ID", "AB123456C"),  # NINO unspaced: the capitals right before the digits
        ("ADDRESS", "M1 1AE"),  # postcode digits after one capital, and before two
        ("ADDRESS", "EC1A 1BB"),
    ],
)
def test_ids_whose_digits_stand_next_to_letters(kind: str, value: str) -> None:
    # The per-number checks run only where the letters such an id needs stand next to its digits.
    assert _found(f"Details: {value} — thanks") == [(kind, value)]


@pytest.mark.parametrize("text", ["d.o.b. 12/05/1990", "Born: 1990-05-12", "Birthday 3 May 1990"])
def test_birth_date_words_in_any_case_and_spelling(text: str) -> None:
    # The birth-date words are looked up once per text (lower-cased), then per number.
    assert [kind for kind, _ in _found(text)] == ["DATE_OF_BIRTH"]


def test_every_ipv6_form_is_found_and_colon_words_are_not() -> None:
    text = "hosts ::1 and fe80::1%eth0, 2001:db8::8a2e:370:7334; 1:2:3:4:5:6:7:8, ::ffff:192.0.2.1 and ::"
    assert [v for _, v in _found(text)] == [
        "::1",
        "fe80::1%eth0",
        "2001:db8::8a2e:370:7334",
        "1:2:3:4:5:6:7:8",
        "::ffff:192.0.2.1",
        "::",
    ]
    assert _found("at 10:30:00 the keys a:b:c, dead:beef and x::y") == []


def test_numbers_in_other_scripts_are_still_read() -> None:
    # A non-ASCII digit anywhere: the digit runs are found character by character instead.
    assert _found("Ref \u0663 - call (415) 555-0132 today") == [("PHONE", "(415) 555-0132")]  # Arabic 3
    wide = "(\uff14\uff11\uff15) \uff15\uff15\uff15-\uff10\uff11\uff13\uff12"  # fullwidth digits
    assert _found(f"call {wide}") == [("PHONE", wide)]


def test_po_boxes_and_the_words_that_only_contain_box() -> None:
    assert _found("write to P.O. Box 123 or PO  Box 77, or p.o.\tbox 4") == [
        ("ADDRESS", "P.O. Box 123"),
        ("ADDRESS", "PO  Box 77"),
        ("ADDRESS", "p.o.\tbox 4"),
    ]
    assert _found("my inbox 123, the checkbox 7, a Box 12") == []


def test_values_among_numbers_that_are_nothing() -> None:
    # Timestamps, versions, list numbers and times around the values: the numbers that can be
    # nothing are passed over without hiding what stands next to them.
    text = (
        "Logs 2024-05-01T10:00:01Z v1.2.3 step 1. At 10:30 ship to 221B Baker Street or SW1A 1AA; "
        "NINO AB 12 34 56 C, IBAN DE89 3704 0044 0532 0130 00, host 203.0.113.42, phone (415) "
        "555-0132, card 4111 1111 1111 1111, Springfield, IL 62704 and 12 Main Street. "
        "She was born 3rd March 1984 in 12 places."
    )
    assert _found(text) == [
        ("ADDRESS", "221B Baker Street"),
        ("ADDRESS", "SW1A 1AA"),
        ("NATIONAL_ID", "AB 12 34 56 C"),
        ("IBAN", "DE89 3704 0044 0532 0130 00"),
        ("IP_ADDRESS", "203.0.113.42"),
        ("PHONE", "(415) 555-0132"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("ADDRESS", "Springfield, IL 62704"),
        ("ADDRESS", "12 Main Street."),
        ("DATE_OF_BIRTH", "3rd March 1984"),
    ]


def test_other_scripts_digits_are_read_by_value_not_an_error() -> None:
    # Arabic-Indic and Devanagari digits match \d: the checksums read their values (they used
    # to index tables with the code point, so the guard raised instead of giving a verdict).
    arabic = "4111 1111 1111 1111".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert _found(f"card {arabic} please") == [("CREDIT_CARD", arabic)]
    twelve = "٢٣٤١٢٣٤١٢٣٤١"  # twelve digits, not a valid Aadhaar number
    devanagari = "२३४१२३४१२३४१"
    assert [kind for kind, _ in _found(f"ids {twelve} and {devanagari}")] in (
        [],
        ["PHONE"],
        ["PHONE", "PHONE"],
    )


def test_the_numbers_passed_over_unread_are_those_no_shape_can_start_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without a birth date announced, only the digit runs ``_CANDIDATE_RE`` picks are read; the
    # findings must be those of reading every run (the same detector, every run a candidate).
    from tollhouse.guards.detectors import pii

    rng = random.Random(5)
    pieces = [
        *"0123456789",
        *" .-()/:+_,\n\t",
        "A", "SW", "DE", "IL", "Q", "x", "ab", "é", "\u00a0", "\u2014", "?", " Main Street", "@a.io",
        "4111 1111 1111 1111", "203.0.113.42", "(415) 555-0132", "DE89 3704 0044 0532 0130 00",
        "AB 12 34 56 C", "SW1A 1AA", "12345678Z", "Springfield, IL 62704", "v1.2.3", "3.5%",
        "1.2.3.4", "y", "AB 12x", "AB 123456 C", "É", " 1AA", "AA", "12 ", "123 ", "PO Box 12",
    ]  # fmt: skip
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    detector = PIIDetector()
    picked = [detector.detect(t, Scope.USER, CallState()) for t in texts]
    monkeypatch.setattr(pii, "_CANDIDATE_RE", pii._RUN_RE)
    assert picked == [detector.detect(t, Scope.USER, CallState()) for t in texts]
    assert sum(map(bool, picked)) > 300  # the texts hold findings to lose
