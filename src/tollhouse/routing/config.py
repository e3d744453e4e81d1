"""Config for routing and reliability: a model's targets, and the `routing:` section's defaults.

They live here rather than in ``config/schema.py`` so the routing area owns its settings;
``ModelRoute`` and ``GatewayConfig`` hold one field per setting.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Strategy = Literal["priority", "weighted", "latency", "least_busy", "cost"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_target(value: str) -> str:
    """``provider/model``, both parts present (the model part may contain ``/``)."""
    provider, sep, model = value.partition("/")
    if not sep or not provider or not model:
        raise ValueError("target must look like provider/model, e.g. openai/gpt-4o-mini")
    return value


class TargetCondition(_Section):
    """When a target may serve a call. Every field given must match; within a list, any entry."""

    teams: Annotated[list[str], Field(description="The caller's team is one of these.")] = []
    orgs: Annotated[list[str], Field(description="The caller's organisation is one of these.")] = []
    tags: Annotated[list[str], Field(description="The caller carries at least one of these tags.")] = []
    principal_kinds: Annotated[
        list[Literal["master", "user", "agent", "service", "anonymous"]],
        Field(description="The caller is one of these kinds of principal."),
    ] = []
    headers: Annotated[
        dict[str, str],
        Field(description="Request headers (case-insensitive names) with exactly these values."),
    ] = {}
    metadata: Annotated[
        dict[str, str], Field(description="The request body's `metadata` object holds these string values.")
    ] = {}

    @field_validator("headers")
    @classmethod
    def _lower(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.lower(): v for k, v in value.items()}


class RouteTarget(_Section):
    """One provider + model (+ its credential, which the provider carries) an alias can reach."""

    target: Annotated[str, Field(description="`provider/model`, as in a model's `target`.")]
    weight: Annotated[float, Field(gt=0, description="Share of traffic under `strategy: weighted`.")] = 1.0
    priority: Annotated[
        int, Field(ge=0, description="Tier: lower tiers are tried first; the strategy orders within a tier.")
    ] = 0
    when: Annotated[
        TargetCondition | None, Field(description="Serve only calls matching this (else: every call).")
    ] = None
    context_window: Annotated[
        int | None, Field(gt=0, description="Tokens; default from the model catalog.")
    ] = None

    @field_validator("target")
    @classmethod
    def _target_ok(cls, value: str) -> str:
        return check_target(value)


class RetryConfig(_Section):
    """Retries of one target, for errors marked retryable (timeouts, 5xx, 429, connection failures)."""

    max_attempts: Annotated[
        int, Field(ge=1, le=10, description="Attempts per target, the first included.")
    ] = 2
    initial_backoff_s: Annotated[float, Field(ge=0, description="Backoff before the first retry.")] = 0.25
    max_backoff_s: Annotated[float, Field(ge=0, description="Backoff never grows past this.")] = 8.0
    multiplier: Annotated[float, Field(ge=1)] = 2.0
    jitter: Annotated[
        bool, Field(description="Randomise each backoff between half and all of it (spreads retry storms).")
    ] = True
    max_retry_after_s: Annotated[
        float,
        Field(ge=0, description="An upstream's Retry-After longer than this skips to the next target."),
    ] = 10.0


class AttemptTimeouts(_Section):
    """Per-attempt bounds the router enforces on top of each provider's own socket timeouts."""

    first_byte_s: Annotated[
        float | None,
        Field(gt=0, description="Until a whole answer, or a stream's first event, arrives."),
    ] = None
    idle_s: Annotated[float | None, Field(gt=0, description="Longest gap between a stream's events.")] = None


class RouteFallbacks(_Section):
    """Where to go when a target refuses for a reason another model may not have."""

    context_window: Annotated[
        list[str],
        Field(
            description="Targets for a prompt too long for the model (default: the route's remaining "
            "targets with a larger context window)."
        ),
    ] = []
    content_filter: Annotated[
        list[str],
        Field(description="Targets for a prompt a provider's safety system refused (default: none)."),
    ] = []

    @field_validator("context_window", "content_filter")
    @classmethod
    def _targets_ok(cls, value: list[str]) -> list[str]:
        return [check_target(v) for v in value]


class CircuitConfig(_Section):
    """Passive outlier detection per target: open on failures, cool down, probe, close."""

    consecutive_failures: Annotated[int, Field(ge=1, description="Open after this many in a row.")] = 5
    failure_rate: Annotated[
        float, Field(gt=0, le=1, description="…or when this share of the window's calls failed.")
    ] = 0.5
    min_calls: Annotated[int, Field(ge=1, description="Calls the window needs before the rate counts.")] = 20
    window_s: Annotated[float, Field(gt=0)] = 30.0
    cooldown_s: Annotated[float, Field(gt=0, description="Open this long, then let one probe through.")] = (
        30.0
    )
    max_cooldown_s: Annotated[
        float, Field(gt=0, description="Each reopening doubles the cooldown, up to this.")
    ] = 300.0


class HealthCheckConfig(_Section):
    """Active checks: each target's provider is asked whether it is reachable, in the background."""

    interval_s: Annotated[float, Field(gt=0)] = 10.0
    unhealthy_after: Annotated[int, Field(ge=1, description="Failed checks in a row that mark it down.")] = 2


class RoutingConfig(_Section):
    """Defaults for every routed alias, and how circuit state is kept."""

    retry: Annotated[
        RetryConfig | None, Field(description="Retries for every alias that sets none (default: none).")
    ] = None
    deadline_s: Annotated[
        float | None,
        Field(gt=0, description="Bounds the whole chain of attempts, retries and fallbacks."),
    ] = None
    timeouts: AttemptTimeouts = AttemptTimeouts()
    circuit: Annotated[
        CircuitConfig | None, Field(description="Circuit breaking for routed aliases (null: off).")
    ] = CircuitConfig()
    health_checks: Annotated[HealthCheckConfig | None, Field(description="Off unless set.")] = None
    shared_state: Annotated[
        Literal["memory", "redis"],
        Field(description="`redis` shares open circuits between replicas (needs `redis.url`)."),
    ] = "memory"
    sync_interval_s: Annotated[
        float, Field(gt=0, description="How often replicas exchange circuit state through Redis.")
    ] = 1.0
    latency_ewma_alpha: Annotated[
        float, Field(gt=0, le=1, description="Weight of the newest sample in `strategy: latency`.")
    ] = 0.3
    response_headers: Annotated[
        bool, Field(description="Send x-tollhouse-target/-attempts/-overhead-ms on routed calls.")
    ] = True


class RouteOptions(_Section):
    """The routing fields of one model alias (mixed into ``ModelRoute``)."""

    targets: Annotated[
        list[RouteTarget], Field(description="Several targets (instead of `target`), tried per `strategy`.")
    ] = []
    strategy: Annotated[Strategy, Field(description="How targets within a priority tier are ordered.")] = (
        "priority"
    )
    retry: RetryConfig | None = None
    deadline_s: Annotated[float | None, Field(gt=0)] = None
    timeouts: AttemptTimeouts | None = None
    fallbacks: RouteFallbacks = RouteFallbacks()

    @model_validator(mode="after")
    def _targets_unique(self) -> RouteOptions:
        seen = [t.target for t in self.targets]
        if len(seen) != len(set(seen)):
            raise ValueError("a target is listed twice in `targets`")
        return self
