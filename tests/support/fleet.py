"""Every provider family behind one gateway, for the compatibility matrix tests.

``Fleet`` starts a local fake of each provider's API (each speaking that API's wire format)
and one gateway with an alias per family (``anthropic``, ``gemini``…) and per family and
error status (``anthropic-e429``: the fake answers that status). ``FAMILIES`` says what each
family's fake answers, so a test asserts what that upstream produced — the text, the tool
calls, the token counts, the error — rather than that nothing was raised.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tests.fakes.answers import MISTRAL, PLANNED, SCRIPTED, Answers
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.azure_upstream import FakeAzure
from tests.fakes.bedrock_upstream import FakeBedrock
from tests.fakes.cohere_upstream import FakeCohere
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.loopback import LoopbackServer
from tests.fakes.mistral_upstream import FakeMistral
from tests.fakes.ollama_upstream import FakeOllama
from tests.fakes.openai_chat import plan_chat
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway

ERROR_STATUSES = (400, 429, 500)
_KEYS = {
    "openai": "sk-fleet-openai-01",
    "azure": "azure-fleet-key-01",
    "anthropic": "sk-ant-fleet-01",
    "gemini": "AIza-fleet-gemini-01",
    "vertex": "ya29.fleet-vertex-01",
    "cohere": "co-fleet-key-01",
    "mistral": "mistral-fleet-key-01",
    "aws_id": "AKIAFLEETEXAMPLE0001",
    "aws_secret": "fleet/secret/EXAMPLEKEY",
}
REGION = "eu-west-1"


@dataclass(frozen=True)
class Family:
    """One matrix column: a provider kind, the fake behind it and what that fake answers."""

    name: str  # the column in docs/compatibility.md, and the gateway alias
    provider: dict[str, Any]  # the gateway's provider entry, without base_url
    model: str  # the upstream model the alias names
    fake: str  # the Fleet attribute holding the fake
    base_path: str = ""  # appended to the fake's URL for the provider's base_url
    answers: Answers = SCRIPTED
    whole_tool_calls: bool = False  # the upstream streams each tool call in one piece

    def error_alias(self, status: int) -> str:
        return f"{self.name}-e{status}"


FAMILIES = (
    Family("openai", {"kind": "openai", "api_key": _KEYS["openai"]}, "gpt-4o-mini", "openai", "/v1", PLANNED),
    Family(
        "azure",
        {"kind": "azure", "api_key": _KEYS["azure"], "api_version": "2024-10-21", "deployments": {"gpt-4o": "prod"}},
        "gpt-4o",
        "azure",
    ),
    Family("anthropic", {"kind": "anthropic", "api_key": _KEYS["anthropic"]}, "claude-sonnet-4-5", "anthropic"),
    Family("gemini", {"kind": "gemini", "api_key": _KEYS["gemini"]}, "gemini-2.5-flash", "gemini", "/v1beta",
           whole_tool_calls=True),
    Family(
        "vertex",
        {"kind": "vertex", "api_key": _KEYS["vertex"], "project": "proj-1", "region": "europe-west4"},
        "gemini-2.5-pro",
        "gemini",
        whole_tool_calls=True,
    ),
    Family(
        "bedrock",
        {"kind": "bedrock", "region": REGION, "aws_access_key_id": _KEYS["aws_id"],
         "aws_secret_access_key": _KEYS["aws_secret"]},
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "bedrock",
    ),
    Family("cohere", {"kind": "cohere", "api_key": _KEYS["cohere"]}, "command-a-03-2025", "cohere"),
    Family("mistral", {"kind": "mistral", "api_key": _KEYS["mistral"]}, "mistral-small-latest", "mistral", "/v1",
           MISTRAL, whole_tool_calls=True),
    Family("ollama", {"kind": "ollama_native"}, "llama3.2", "ollama", whole_tool_calls=True),
    Family("openai_compatible", {"kind": "openai_compatible", "api_key": _KEYS["openai"]}, "gpt-4o", "openai",
           "/v1", PLANNED),
)  # fmt: skip
NAMES = tuple(f.name for f in FAMILIES)

Upstream = FakeOpenAI | LoopbackServer


class Fleet:
    """The fakes and the gateway in front of them; use as ``with Fleet() as fleet:``."""

    def __init__(self) -> None:
        self.openai = FakeOpenAI(require_key=_KEYS["openai"])
        self.azure = FakeAzure(_KEYS["azure"])
        self.anthropic = FakeAnthropic(_KEYS["anthropic"])
        self.gemini = FakeGemini(_KEYS["gemini"], _KEYS["vertex"])
        self.bedrock = FakeBedrock(_KEYS["aws_id"], _KEYS["aws_secret"], REGION)
        self.cohere = FakeCohere(_KEYS["cohere"])
        self.mistral = FakeMistral(_KEYS["mistral"])
        self.ollama = FakeOllama()
        self._stack = ExitStack()
        self.gateway: RunningGateway | None = None

    def __enter__(self) -> Fleet:
        with ExitStack() as stack:
            for family in FAMILIES:
                fake = self.fake(family)
                if getattr(fake, "port", 0) == 0:  # one fake may serve several families
                    stack.enter_context(fake)
            self.gateway = stack.enter_context(RunningGateway(self.config()))
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()

    def fake(self, family: Family) -> Upstream:
        upstream: Upstream = getattr(self, family.fake)
        return upstream

    def config(self) -> dict[str, Any]:
        providers: dict[str, Any] = {}
        models: list[dict[str, Any]] = []
        for family in FAMILIES:
            fake = self.fake(family)
            origin = fake.origin if isinstance(fake, FakeOpenAI) else fake.base_url
            providers[family.name] = {**family.provider, "base_url": origin + family.base_path}
            models.append({"alias": family.name, "target": f"{family.name}/{family.model}"})
            models += [
                {"alias": family.error_alias(s), "target": f"{family.name}/error-{s}"} for s in ERROR_STATUSES
            ]
        return {"auth": {"master_keys": [CLIENT_KEY]}, "providers": providers, "models": models}

    @property
    def running(self) -> RunningGateway:
        assert self.gateway is not None, "use the fleet as a context manager"
        return self.gateway

    def reset(self, family: Family) -> Upstream:
        """The family's fake, its record cleared (call before the request a test inspects)."""
        fake = self.fake(family)
        fake.reset()
        return fake

    def usage(self, family: Family) -> tuple[int, int]:
        """The (prompt, completion) token counts the family's fake reported for its last chat."""
        fake = self.fake(family)
        if isinstance(fake, FakeMistral):
            planned = fake.plan(fake.last_request.json)
            return planned.prompt_tokens, planned.completion_tokens
        if isinstance(fake, FakeOpenAI):
            planned = plan_chat(fake.last_request.json, 0)
            return planned.prompt_tokens, planned.completion_tokens
        assert fake.last_plan is not None, f"{family.name}: the fake answered no chat"
        return fake.last_plan.input_tokens, fake.last_plan.output_tokens
