"""map_error: an upstream's non-2xx answer → the right typed error, with no leaked secrets."""

from __future__ import annotations

import orjson
import pytest

from tollhouse.errors import (
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tollhouse.providers.openai_compatible.errors import map_error


def _body(message: str, param: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": "x", "param": param, "code": None}})


@pytest.mark.parametrize(
    ("status", "cls", "mapped_status", "retryable", "fallback"),
    [
        (400, UpstreamRejected, 400, False, False),
        (401, UpstreamAuthFailed, 502, False, True),
        (403, UpstreamAuthFailed, 502, False, True),
        (404, UpstreamRejected, 404, False, False),
        (408, UpstreamTimeout, 504, True, True),
        (409, UpstreamRejected, 400, False, False),
        (422, UpstreamRejected, 400, False, False),
        (429, UpstreamRateLimited, 429, True, True),
        (500, UpstreamUnavailable, 502, True, True),
        (502, UpstreamUnavailable, 502, True, True),
        (503, UpstreamUnavailable, 502, True, True),
        (504, UpstreamTimeout, 504, True, True),
    ],
)
def test_status_maps_to_class_and_routing_flags(
    status: int, cls: type[UpstreamError], mapped_status: int, retryable: bool, fallback: bool
) -> None:
    error = map_error(status, _body("boom"), "acme", None)
    assert type(error) is cls
    assert error.status == mapped_status
    assert error.retryable is retryable
    assert error.fallback_allowed is fallback
    assert "acme" in error.message


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_does_not_pass_on_the_upstream_message(status: int) -> None:
    leaked = "Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz"
    error = map_error(status, _body(leaked), "openai", None)
    assert "sk-proj" not in error.message
    assert "Incorrect API key" not in error.message
    assert error.code == "upstream_auth_failed"


def test_rejection_passes_on_message_and_param() -> None:
    error = map_error(400, _body("'temperature' is too high", "temperature"), "acme", None)
    assert isinstance(error, UpstreamRejected)
    assert "'temperature' is too high" in error.message
    assert error.param == "temperature"
    assert error.code == "upstream_rejected"


def test_not_found_keeps_404_and_its_code() -> None:
    error = map_error(404, _body("The model `x` does not exist", "model"), "acme", None)
    assert error.status == 404
    assert error.code == "upstream_not_found"
    assert error.param == "model"
    assert "does not exist" in error.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>Bad Gateway</html>", "HTTP 418"),
        (b"", "HTTP 418"),
        (b'{"error": "plain string error"}', "plain string error"),
        (b'{"detail": "fastapi style"}', "HTTP 418"),
        (b"[1, 2]", "HTTP 418"),
        (b"\xff\xfe", "HTTP 418"),
    ],
)
def test_odd_error_bodies_still_map(body: bytes, expected: str) -> None:
    error = map_error(418, body, "acme", None)
    assert isinstance(error, UpstreamRejected)
    assert expected in error.message


def test_long_upstream_messages_are_truncated() -> None:
    error = map_error(400, _body("x" * 5000), "acme", None)
    assert error.message.count("x") == 500


@pytest.mark.parametrize(
    ("retry_after", "headers"),
    [("7", {"retry-after": "7"}), ("120", {"retry-after": "120"}), (None, {}), ("", {})],
)
def test_rate_limit_passes_numeric_retry_after_as_header(
    retry_after: str | None, headers: dict[str, str]
) -> None:
    error = map_error(429, _body("Rate limit reached"), "acme", retry_after)
    assert isinstance(error, UpstreamRateLimited)
    assert error.headers == headers
    assert "Rate limit reached" in error.message


@pytest.mark.parametrize("retry_after", ["Wed, 21 Oct 2026 07:28:00 GMT", "1.5", "-1", "7\r\nx-evil: 1"])
def test_rate_limit_drops_non_numeric_retry_after(retry_after: str) -> None:
    assert map_error(429, b"", "acme", retry_after).headers == {}


def test_retry_after_ignored_for_other_statuses() -> None:
    assert map_error(503, b"", "acme", "5").headers == {}


@pytest.mark.parametrize("retry_after", ["\u00b2", "\u0663"])
def test_rate_limit_drops_non_ascii_digits(retry_after: str) -> None:
    assert map_error(429, b"", "acme", retry_after).headers == {}
