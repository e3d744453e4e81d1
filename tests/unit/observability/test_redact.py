"""Redactor and RedactingFilter: secrets never reach a log line or an error message."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from tollhouse.observability.redact import MASK, RedactingFilter, Redactor

KNOWN = "hunter2-correct-horse"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"password is {KNOWN}!", KNOWN),
        ("key=sk-proj-AbC123_xyz-9", "sk-proj-AbC123_xyz-9"),
        ("token th-abcdef123456 used", "th-abcdef123456"),
        ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
        ("authorization: bearer eyJhbGciOi.eyJzdWIi.sig_nature", "eyJhbGciOi.eyJzdWIi.sig_nature"),
        ("aws AKIAABCDEFGHIJKLMNOP here", "AKIAABCDEFGHIJKLMNOP"),
        ("google AIzaSyA1234567890abcdefghijklmnopqrstu", "AIzaSyA1234567890abcdefghijklmnopqrstu"),
        ('{"error": {"message": "Incorrect API key provided: sk-live-0123456789"}}', "sk-live-0123456789"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    scrubbed = Redactor([KNOWN]).scrub(text)
    assert secret not in scrubbed
    assert MASK in scrubbed


def test_every_occurrence_is_masked_and_the_rest_kept() -> None:
    scrubbed = Redactor([KNOWN]).scrub(f"a {KNOWN} b {KNOWN} c")
    assert scrubbed == f"a {MASK} b {MASK} c"


def test_known_secret_inside_other_text_is_masked() -> None:
    scrubbed = Redactor(["s3cr3t-value"]).scrub("url=https://u:s3cr3t-value@host/")
    assert scrubbed == f"url=https://u:{MASK}@host/"


def test_longer_known_secret_wins_over_its_prefix() -> None:
    scrubbed = Redactor(["abcd", "abcdefgh-long"]).scrub("x abcdefgh-long y")
    assert scrubbed == f"x {MASK} y"
    assert "efgh" not in scrubbed


def test_regex_characters_in_secrets_are_literal() -> None:
    redactor = Redactor(["a.b*c+d?"])
    assert redactor.scrub("a.b*c+d?") == MASK
    assert redactor.scrub("aXbbbcd") == "aXbbbcd"


def test_ordinary_text_is_unchanged() -> None:
    text = "request 42 to model gpt-4o took 1.5 s; task-runner skipped; the bearer of news"
    assert Redactor([KNOWN]).scrub(text) == text


def test_very_short_known_values_are_ignored() -> None:
    # Masking a 3-character value would shred ordinary text.
    assert Redactor(["abc"]).scrub("abcdef abc") == "abcdef abc"


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter(Redactor([KNOWN])))
    log = logging.getLogger("tests.unit.redact")
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log, stream
    log.handlers = []
    log.propagate = True


def test_filter_scrubs_message_args(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    log.info("calling upstream with key %s and %s (%d tries)", KNOWN, "sk-abcdef123456", 3)
    out = stream.getvalue()
    assert KNOWN not in out
    assert "sk-abcdef123456" not in out
    assert out == f"INFO calling upstream with key {MASK} and {MASK} (3 tries)\n"


def test_filter_scrubs_the_message_itself(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    log.warning(f"header was Bearer {KNOWN}")
    assert KNOWN not in stream.getvalue()


def test_filter_leaves_clean_records_alone(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    log.info("served %d requests at %.1f%%", 10, 99.5)
    assert stream.getvalue() == "INFO served 10 requests at 99.5%\n"


def test_filter_scrubs_exception_text(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    try:
        raise ValueError(f"upstream said: invalid key {KNOWN} / sk-zzzzzzzzzzzz")
    except ValueError:
        log.exception("call failed")
    out = stream.getvalue()
    assert "call failed" in out
    assert "Traceback" in out
    assert "ValueError" in out
    assert KNOWN not in out
    assert "sk-zzzzzzzzzzzz" not in out
    assert MASK in out


def test_filter_scrubs_chained_exception_text(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    try:
        try:
            raise KeyError(KNOWN)
        except KeyError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError:
        log.error("failed", exc_info=True)
    out = stream.getvalue()
    assert "KeyError" in out
    assert KNOWN not in out


def test_values_learned_later_are_masked_too() -> None:
    redactor = Redactor(["first-known-secret"])
    assert redactor.scrub("late-loaded-value-77") == "late-loaded-value-77"
    redactor.learn(["late-loaded-value-77", "abc"])  # too short to learn: "abc" stays
    assert redactor.scrub("a late-loaded-value-77 and first-known-secret, abc") == f"a {MASK} and {MASK}, abc"
