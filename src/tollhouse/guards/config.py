"""The ``guardrails:`` section of the configuration file.

A guardrail policy says where its guards run (``stages``), for whom (``match``), what each
guard's verdict does (``action``), and what happens when a guard fails (``on_error``).
``dry_run`` records every verdict and enforces none, to roll a new guard out safely.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tollhouse.config.secrets import SecretRef

Stage = Literal["request", "response", "stream", "tool_args", "tool_results"]
ScopeName = Literal["system", "user", "assistant", "tool_input", "tool_output", "mcp_result", "a2a_part"]
GuardAction = Literal["block", "redact", "flag", "require_approval"]
FailMode = Literal["fail_open", "fail_closed"]
ALL_STAGES: tuple[Stage, ...] = ("request", "response", "stream", "tool_args", "tool_results")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Guard(_Strict):
    id: Annotated[
        str | None, Field(description="Name in verdicts and the audit log (default: the type).")
    ] = None
    action: GuardAction = "block"
    stages: Annotated[list[Stage] | None, Field(description="Default: the policy's stages.")] = None
    scopes: Annotated[list[ScopeName] | None, Field(description="Default: the guard type's own.")] = None
    on_error: Annotated[FailMode | None, Field(description="Default: the policy's.")] = None


class InjectionGuard(_Guard):
    """Prompt injection and jailbreak heuristics (scored 0..1)."""

    type: Literal["injection"]
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.5
    indirect_threshold: Annotated[
        float, Field(gt=0, le=1, description="For tool results and other indirect input: stricter.")
    ] = 0.35
    learned: Annotated[
        bool,
        Field(
            description="The learned n-gram layer of the heuristics (pure Python, tens of µs); off: rules only."
        ),
    ] = True
    classifier: Annotated[
        Literal["minilm"] | None,
        Field(description="Add the embedding classifier of the `ml` extra (tens of ms, off the event loop)."),
    ] = None
    classifier_threshold: Annotated[
        float | None, Field(gt=0, lt=1, description="Default: the one trained with the head.")
    ] = None


class PIIGuard(_Guard):
    """Validated personal data. Redaction uses typed placeholders (``<EMAIL_1>``)."""

    type: Literal["pii"]
    entities: Annotated[
        list[str] | None,
        Field(
            description="EMAIL PHONE CREDIT_CARD IBAN US_SSN IP_ADDRESS DATE_OF_BIRTH ADDRESS NATIONAL_ID "
            "(the default); PERSON ORGANIZATION LOCATION with the presidio extra"
        ),
    ] = None
    phone_regions: Annotated[list[str], Field(description="Regions for numbers without +country.")] = [
        "US",
        "GB",
    ]
    ner_model: Annotated[
        str, Field(description="The spaCy pipeline package Presidio uses for names (an installed package).")
    ] = "en_core_web_sm"
    ner_threshold: Annotated[float, Field(ge=0, le=1, description="Lowest Presidio score reported.")] = 0.5


class SecretsGuard(_Guard):
    """Provider keys, private keys, JWTs, passwords, high-entropy tokens."""

    type: Literal["secrets"]
    kinds: Annotated[list[str] | None, Field(description="Only these kinds (e.g. AWS_ACCESS_KEY).")] = None


class ExfiltrationGuard(_Guard):
    """Markdown/HTML images and links carrying data to hosts outside ``allow_hosts``; data URLs."""

    type: Literal["exfiltration"]
    allow_hosts: list[str] = []
    block_all_images: Annotated[bool, Field(description="Any image from a host not allowed.")] = False


class CanaryGuard(_Guard):
    """Blocks answers and tool calls that repeat the canary planted in the system prompt."""

    type: Literal["canary"]


class KeywordsGuard(_Guard):
    """Deny-lists: keywords/phrases (whole words, any case), regexes, named topic lists."""

    type: Literal["keywords"]
    keywords: list[str] = []
    patterns: list[str] = []
    topics: dict[str, list[str]] = {}

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r}: {exc}") from None
        return value


class TopicsGuard(_Guard):
    """Topics by meaning (the ``ml`` extra): close to any example sentence of a topic."""

    type: Literal["topics"]
    examples: Annotated[dict[str, list[str]], Field(description="Topic name → example sentences.")]
    threshold: Annotated[float, Field(gt=0, le=1, description="Cosine similarity that counts.")] = 0.6


class SchemaGuard(_Guard):
    """Answers must be JSON valid under ``schema`` (default: the schema the caller asked for)."""

    type: Literal["schema"]
    json_schema: Annotated[dict[str, Any] | None, Field(alias="schema")] = None
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WebhookGuard(_Guard):
    """An external guard: POST the segments as JSON, read back a verdict (docs/guardrails.md)."""

    type: Literal["webhook"]
    url: str
    timeout_ms: Annotated[int, Field(ge=1, le=60_000)] = 500
    headers: Annotated[dict[str, SecretRef], Field(description="Sent with each call (env:/file: refs).")] = {}

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value


GuardConfig = Annotated[
    InjectionGuard
    | PIIGuard
    | SecretsGuard
    | ExfiltrationGuard
    | CanaryGuard
    | KeywordsGuard
    | TopicsGuard
    | SchemaGuard
    | WebhookGuard,
    Field(discriminator="type"),
]


class GuardMatch(_Strict):
    """Whom a policy applies to; every list that is set must match (empty: anyone)."""

    principals: list[str] = []
    teams: list[str] = []
    agents: list[str] = []
    models: Annotated[list[str], Field(description="Model aliases; shell-style globs (gpt-*).")] = []
    tags: Annotated[list[str], Field(description="Any of the principal's tags.")] = []
    surfaces: list[str] = []


# Guards read about a megabyte a second on the event loop: a bigger text would hold up every
# other call for longer (the body limit, `server.max_body_bytes`, is 8 MiB by default).
MAX_SCAN_CHARS = 1_000_000


class GuardrailPolicyConfig(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    stages: list[Stage] = list(ALL_STAGES)
    match: GuardMatch = GuardMatch()
    guards: Annotated[list[GuardConfig], Field(min_length=1)]
    dry_run: Annotated[bool, Field(description="Record verdicts, enforce nothing.")] = False
    on_error: Annotated[FailMode, Field(description="When a guard raises or times out.")] = "fail_closed"
    hold_back_chars: Annotated[
        int, Field(ge=0, le=65_536, description="Streamed text is released this far behind the scanner.")
    ] = 128
    max_scan_chars: Annotated[
        int | None,
        Field(
            ge=1,
            description="Most characters a stage's guards read in one call. A longer text is refused"
            " (413) under `fail_closed` and passes unread, recorded as not run, under `fail_open`;"
            " null: no limit.",
        ),
    ] = MAX_SCAN_CHARS
    restore_redactions: Annotated[
        bool, Field(description="Put redacted values back into the answer for the caller.")
    ] = True
    canary: Annotated[bool, Field(description="Plant a canary token in the system prompt.")] = False

    @model_validator(mode="after")
    def _ids_unique(self) -> GuardrailPolicyConfig:
        seen: set[str] = set()
        for guard in self.guards:
            name = guard.id or guard.type
            if name in seen:
                raise ValueError(f"guard id {name!r} is used twice in policy {self.name!r}; set `id`")
            seen.add(name)
        return self


class ApprovalsConfig(_Strict):
    """Tool calls a ``require_approval`` guard holds on the LLM surfaces (docs/guardrails.md)."""

    timeout_s: Annotated[
        float, Field(gt=0, description="A call nobody decided in this time is denied (expired).")
    ] = 900.0
    valid_s: Annotated[
        float, Field(gt=0, description="How long a decision applies to retries of the same call.")
    ] = 3600.0
    poll_s: Annotated[float, Field(gt=0, description="How often streams re-read decisions.")] = 1.0


class GuardrailsConfig(_Strict):
    """Runtime guardrails (docs/guardrails.md): evaluated in order, each policy on its own."""

    policies: list[GuardrailPolicyConfig] = []
    approvals: ApprovalsConfig = ApprovalsConfig()

    @model_validator(mode="after")
    def _names_unique(self) -> GuardrailsConfig:
        names = [p.name for p in self.policies]
        if len(names) != len(set(names)):
            raise ValueError("guardrail policy names must be unique")
        return self
