"""The `limits:` config section: limit rules, per-session caps, the spend ledger, alerts.

It lives here rather than in ``config/schema.py`` so the limits area owns its settings;
``GatewayConfig`` holds one field for it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tollhouse.config.secrets import SecretRef

Metric = Literal["requests", "tokens", "input_tokens", "output_tokens", "concurrent", "spend", "tool_calls"]
Dimension = Literal["global", "key", "principal", "team", "org", "agent", "session", "model", "provider"]
Window = Literal["second", "minute", "hour", "day", "week", "month", "none"]
Mode = Literal["enforce", "shadow"]
Degraded = Literal["fail_open", "fail_closed"]

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitRule(_Section):
    """One limit: a counter per distinct value of `by`, for calls that `match`."""

    name: Annotated[str, Field(description="Unique id; named in errors, headers, decisions and alerts.")]
    metric: Annotated[
        Metric,
        Field(
            description="requests; tokens (input + output), input_tokens, output_tokens; concurrent "
            "(in-flight calls); spend (USD); tool_calls (tool results the caller sends back)."
        ),
    ]
    limit: Annotated[float, Field(gt=0, description="The most allowed per window (USD for spend).")]
    by: Annotated[
        list[Dimension], Field(description="One counter per distinct combination of these; [] = global.")
    ] = ["key"]
    match: Annotated[
        dict[Dimension, list[str]],
        Field(description="Only calls whose dimension is one of these values (`*` suffix: a prefix)."),
    ] = {}
    window: Annotated[
        Window, Field(description="How long a count lasts; `none`: never resets (e.g. a session's total).")
    ] = "minute"
    calendar: Annotated[
        bool,
        Field(description="Windows start on UTC calendar boundaries; else at the window's first call."),
    ] = False
    mode: Annotated[
        Mode, Field(description="`shadow`: count and record what would be refused, refuse nothing.")
    ] = "enforce"
    degraded: Annotated[
        Degraded,
        Field(
            description="When Redis is unreachable: count locally (`fail_open`) or refuse (`fail_closed`)."
        ),
    ] = "fail_open"
    alert_at: Annotated[
        list[float],
        Field(description="Fractions of the limit (e.g. 0.8) that fire the alert webhook once per window."),
    ] = []

    @field_validator("name")
    @classmethod
    def _name_ok(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("name: lower-case letters, digits, _ and -, at most 64 characters")
        return value

    @field_validator("alert_at")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        if any(not 0 < f < 1 for f in value):
            raise ValueError("alert_at: fractions between 0 and 1, e.g. [0.8]")
        return sorted(set(value))

    @model_validator(mode="after")
    def _coherent(self) -> LimitRule:
        if self.metric == "concurrent" and self.calendar:
            raise ValueError("a concurrent limit has no window: drop `calendar`")
        if self.calendar and self.window == "none":
            raise ValueError("calendar: true needs a window (minute, hour, day, week or month)")
        if "global" in self.by and len(self.by) > 1:
            raise ValueError("`global` is one counter for everything: use it alone")
        return self


class LoopDetection(_Section):
    """The same request body again and again in one session is an agent stuck in a loop."""

    max_repeats: Annotated[
        int,
        Field(ge=1, description="Identical bodies served per session within `window_s`; more are refused."),
    ]
    window_s: Annotated[float, Field(gt=0)] = 300.0
    kill_session: Annotated[
        bool, Field(description="Also kill the session when a loop is detected (every further call fails).")
    ] = False


class SessionCaps(_Section):
    """Caps per agent session (`x-tollhouse-session`, else the W3C trace id); calls without one are exempt."""

    max_calls: Annotated[int | None, Field(ge=1, description="LLM calls per session.")] = None
    max_tool_calls: Annotated[int | None, Field(ge=1, description="Tool results sent back per session.")] = (
        None
    )
    max_spend: Annotated[float | None, Field(gt=0, description="USD per session.")] = None
    max_duration_s: Annotated[float | None, Field(gt=0, description="Wall time since the first call.")] = None
    loop: LoopDetection | None = None
    idle_ttl_s: Annotated[
        float, Field(gt=0, description="A session's counters are forgotten this long after its last call.")
    ] = 86400.0
    mode: Mode = "enforce"
    degraded: Degraded = "fail_open"


class LedgerConfig(_Section):
    """Every settled call's usage and cost, written to `database.url` in batches."""

    enabled: bool = True
    flush_interval_s: Annotated[float, Field(gt=0)] = 1.0
    batch_max: Annotated[int, Field(ge=1, le=10_000)] = 500
    queue_max: Annotated[
        int,
        Field(ge=100, description="Rows held in memory while the database is slow; more are counted lost."),
    ] = 100_000


class AlertsConfig(_Section):
    """Soft-threshold alerts (`alert_at`), POSTed as JSON."""

    webhook_url: Annotated[
        SecretRef | None, Field(description="http(s) URL (env:NAME when it carries a token).")
    ] = None
    timeout_s: Annotated[float, Field(gt=0)] = 5.0


class EstimateConfig(_Section):
    """How a call's cost is estimated before it is made, for the reservation."""

    bytes_per_token: Annotated[
        float,
        Field(gt=0, description="Prompt tokens ≈ body bytes / this; lower reserves more (safer)."),
    ] = 3.0
    default_max_output_tokens: Annotated[
        int, Field(ge=1, description="Output reserved when neither the call nor the catalog says.")
    ] = 4096


class LimitsConfig(_Section):
    """Rate limits, budgets and agent-session caps; see docs/limits.md."""

    enabled: Annotated[
        bool | None, Field(description="Default: on when there are rules or session caps.")
    ] = None
    backend: Annotated[
        Literal["auto", "memory", "redis"],
        Field(description="Where counters live; `auto`: Redis when `redis.url` is set, else in-process."),
    ] = "auto"
    key_prefix: Annotated[str, Field(min_length=1, max_length=64)] = "tollhouse:limits:"
    rules: list[LimitRule] = []
    sessions: SessionCaps | None = None
    reservation_ttl_s: Annotated[
        float,
        Field(
            gt=0, description="A reservation or slot never settled (a crashed replica) expires after this."
        ),
    ] = 900.0
    redis_timeout_s: Annotated[float, Field(gt=0, le=10)] = 0.5
    redis_retry_s: Annotated[
        float,
        Field(gt=0, description="After Redis fails, the degraded path is used this long before retrying."),
    ] = 1.0
    kill_poll_s: Annotated[
        float,
        Field(gt=0, description="How often each replica reloads the killed sessions from the database."),
    ] = 1.0
    headers: Annotated[bool, Field(description="x-ratelimit-* headers on successful responses too.")] = True
    estimate: EstimateConfig = EstimateConfig()
    ledger: LedgerConfig = LedgerConfig()
    alerts: AlertsConfig = AlertsConfig()

    @property
    def active(self) -> bool:
        return self.enabled if self.enabled is not None else bool(self.rules or self.sessions)

    @model_validator(mode="after")
    def _names_unique(self) -> LimitsConfig:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"limit rule {rule.name!r} is defined twice")
            seen.add(rule.name)
        return self
