"""Where in a call a policy runs. Pre phases run in this order; exits run in reverse."""

from __future__ import annotations

from enum import IntEnum


class Phase(IntEnum):
    RECORD_RESPONSE = 1  # first in, so its on_response runs last: audit sees the final answer
    AUTHENTICATE = 10
    VALIDATE = 20
    AUTHORIZE = 30
    ADMIT = 40
    INSPECT_REQUEST = 50
    LOOKUP = 60
    RECORD = 90  # audit: the request record, after every policy that could still refuse it


class CallKind(IntEnum):
    """What kind of call passes the checkpoint; policies declare which they apply to."""

    LLM = 1
    MCP = 2
    A2A = 3
