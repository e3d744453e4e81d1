"""The refusals limits return, as branches of the gateway's error tree (``tollhouse.errors``).

RateLimited                429 rate_limit_error
├── LimitExceeded          429 rate_limit_exceeded: requests, tokens, concurrency; Retry-After
└── BudgetExceeded         429 insufficient_quota / budget_exceeded: spend for the period is used up
Forbidden                  403 permission_error (retrying will not help: agents' SDKs must stop)
├── SessionKilled          403 session_killed: an operator stopped this session
├── SessionLimitExceeded   403 session_limit_exceeded: a per-session cap (calls, tool calls, spend, time)
└── SessionLoopDetected    403 session_loop_detected: the same request again and again
LimitsUnavailable          503 limits_unavailable: counters unreachable and the limit fails closed
"""

from __future__ import annotations

from tollhouse.errors import Forbidden, RateLimited, TollhouseError


class LimitExceeded(RateLimited):
    code = "rate_limit_exceeded"


class BudgetExceeded(RateLimited):
    type = "insufficient_quota"
    code = "budget_exceeded"


class SessionKilled(Forbidden):
    code = "session_killed"


class SessionLimitExceeded(Forbidden):
    code = "session_limit_exceeded"


class SessionLoopDetected(Forbidden):
    code = "session_loop_detected"


class LimitsUnavailable(TollhouseError):
    status = 503
    type = "service_unavailable"
    code = "limits_unavailable"
    retryable = True
