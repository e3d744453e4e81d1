"""Bedrock errors → typed errors.

https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors:
the body is ``{"message": …}`` and ``x-amzn-ErrorType`` names the exception. In a stream that
began, failures arrive as event-stream messages of type ``exception`` (``:exception-type``).
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from tollhouse.errors import UpstreamError
from tollhouse.providers.upstream_errors import error_for_status

# Exception names (as in x-amzn-ErrorType and :exception-type) → the status they stand for.
_STATUS = {
    "validationexception": 400,
    "accessdeniedexception": 403,
    "unrecognizedclientexception": 403,
    "invalidsignatureexception": 403,
    "expiredtokenexception": 403,
    "resourcenotfoundexception": 404,
    "modeltimeoutexception": 408,
    "modelerrorexception": 502,  # HTTP 424: the model failed, not the request
    "modelstreamerrorexception": 502,
    "throttlingexception": 429,
    "servicequotaexceededexception": 429,
    "modelnotreadyexception": 429,
    "internalserverexception": 500,
    "serviceunavailableexception": 503,
}


def _message(body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(data, dict):
        return ""
    return str(data.get("message") or data.get("Message") or "")


def _kind(error_type: str | None) -> str:
    return (error_type or "").split(":", 1)[0].rsplit("#", 1)[-1].lower()


def map_error(status: int, body: bytes, provider: str, headers: Mapping[str, str]) -> UpstreamError:
    kind = _kind(headers.get("x-amzn-errortype") or headers.get("x-amzn-ErrorType"))
    if kind in ("unrecognizedclientexception", "invalidsignatureexception", "expiredtokenexception"):
        status = 401  # a credential problem, whatever status carried it
    elif status == 424:
        status = 502  # ModelErrorException: the model failed processing, worth a retry elsewhere
    return error_for_status(status, _message(body), provider, headers.get("retry-after"))


def stream_exception(exception_type: str | None, payload: bytes, provider: str) -> UpstreamError:
    """An ``exception`` message inside an event stream, typed as its HTTP status would be."""
    return error_for_status(_STATUS.get(_kind(exception_type), 500), _message(payload), provider)
