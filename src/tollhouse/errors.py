"""The exception tree. Every failure a caller can see is one of these.

    TollhouseError                 status  type / code
    ├── ClientError                4xx: the caller can fix it
    │   ├── InvalidRequest         400     invalid_request_error
    │   ├── Unauthenticated        401     authentication_error
    │   ├── Forbidden              403     permission_error
    │   │   ├── ApprovalRequired   403     approval_required: a guardrail holds a tool call for approval
    │   │   └── ApprovalDenied     403     approval_denied: the held tool call was denied or timed out
    │   ├── NotFound               404     not_found_error (UnknownModel: model_not_found)
    │   ├── RequestTimeout         408     timeout (the client was too slow sending its body)
    │   ├── PayloadTooLarge        413     invalid_request_error / request_too_large
    │   ├── RateLimited            429     rate_limit_error
    │   └── GuardBlocked           400     content_filter: a guardrail blocked the prompt or the answer
    ├── AuditUnavailable           503     audit_unavailable: the audit trail could not record the call
    ├── GuardUnavailable           503     guard_unavailable: a fail-closed guard failed or timed out
    └── UpstreamError              the provider failed us; retryable / fallback_allowed decide routing
        ├── UpstreamTimeout        504     timeout
        │   └── DeadlineExceeded   504     deadline_exceeded: the route's deadline ran out
        ├── UpstreamUnavailable    502     upstream_error (connection refused / reset / bad body)
        ├── UpstreamRejected       4xx     the provider refused the request itself (its 400/404/422)
        │   ├── UpstreamContentFiltered 400 content_filter: the provider's safety system blocked it
        │   └── UpstreamContextExceeded 400 context_length_exceeded: too long for this model
        ├── UpstreamRateLimited    429     the provider's rate limit
        └── UpstreamAuthFailed     502     the gateway's provider credential was refused

Lower-level exceptions (aiohttp, asyncio, orjson) are mapped once, at the boundary where
they occur, with ``raise ... from``. Messages never contain secrets: upstream texts pass
through the redactor before they become a message.
"""

from __future__ import annotations

INTERNAL_ERROR = "internal error; see the gateway log"  # all a caller learns of a bug


class TollhouseError(Exception):
    """Base of every error the gateway returns to a caller."""

    status: int = 500
    type: str = "internal_error"
    code: str | None = None
    retryable: bool = False
    fallback_allowed: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.param = param
        self.headers = headers or {}
        self.details = details or {}  # extra members of the error object (never secrets)


class ClientError(TollhouseError):
    """The request cannot succeed as sent; retrying it elsewhere will not help."""


class InvalidRequest(ClientError):
    status = 400
    type = "invalid_request_error"


class Unauthenticated(ClientError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class Forbidden(ClientError):
    status = 403
    type = "permission_error"
    code = "forbidden"


class NotFound(ClientError):
    status = 404
    type = "not_found_error"
    code = "not_found"


class UnknownModel(NotFound):
    type = "invalid_request_error"
    code = "model_not_found"


class RequestTimeout(ClientError):
    status = 408
    type = "timeout"
    code = "request_timeout"


class PayloadTooLarge(ClientError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class RateLimited(ClientError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class ApprovalRequired(Forbidden):
    """A guardrail holds the model's tool call until someone approves it (``details``:
    ``approval_id``); the caller retries the same request once it is approved."""

    code = "approval_required"


class ApprovalDenied(Forbidden):
    """The held tool call was denied, or nobody decided in time; its retries fail too."""

    code = "approval_denied"


class GuardBlocked(ClientError):
    """A guardrail blocked the prompt, a tool result, the answer or a tool call."""

    status = 400
    type = "invalid_request_error"
    code = "content_filter"


class UpstreamError(TollhouseError):
    """The provider behind a route failed; the router may retry or fall back."""

    status = 502
    type = "upstream_error"
    code = "upstream_error"


class UpstreamTimeout(UpstreamError):
    status = 504
    type = "timeout"
    code = "upstream_timeout"
    retryable = True
    fallback_allowed = True


class UpstreamUnavailable(UpstreamError):
    retryable = True
    fallback_allowed = True


class UpstreamRejected(UpstreamError):
    """The provider rejected the request itself (its 400/404/422): the caller's problem."""

    status = 400
    type = "invalid_request_error"
    code = "upstream_rejected"


class UpstreamContentFiltered(UpstreamRejected):
    """The provider's safety system blocked the prompt or the answer; another provider may not."""

    code = "content_filter"
    fallback_allowed = True


class UpstreamContextExceeded(UpstreamRejected):
    """The prompt does not fit the model's context window; a larger-context model may take it."""

    code = "context_length_exceeded"
    fallback_allowed = True


class DeadlineExceeded(UpstreamTimeout):
    """The route's deadline ran out across its attempts; no time is left to try another target."""

    code = "deadline_exceeded"
    retryable = False
    fallback_allowed = False


class UpstreamRateLimited(UpstreamError):
    status = 429
    type = "rate_limit_error"
    code = "upstream_rate_limited"
    retryable = True
    fallback_allowed = True


class UpstreamAuthFailed(UpstreamError):
    """The provider refused the gateway's credential: an operator problem, not the caller's."""

    code = "upstream_auth_failed"
    fallback_allowed = True


class AuditUnavailable(TollhouseError):
    """The audit trail cannot record this call (strict mode, or backpressure: fail), so it is refused."""

    status = 503
    type = "service_unavailable"
    code = "audit_unavailable"
    retryable = True


class GuardUnavailable(TollhouseError):
    """A fail-closed guard raised or timed out, so the call is refused rather than unguarded."""

    status = 503
    type = "service_unavailable"
    code = "guard_unavailable"
    retryable = True
