"""OpenAI-compatible providers as data: base URL, key variable, auth header and quirks.

A row is all it takes to add a provider whose API is OpenAI's. Quirks are the parameters a
provider rejects or names differently; the translator applies them to outgoing bodies.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CatalogRow:
    base_url: str
    api_key_env: str | None  # the environment variable read when the config names no key
    auth_header: str = "authorization"  # "authorization" sends "Bearer KEY"; others send KEY
    drop_params: frozenset[str] = frozenset()  # removed from outgoing bodies
    rename_params: tuple[tuple[str, str], ...] = ()  # (ours, theirs)
    headers: tuple[tuple[str, str], ...] = ()
    # The output-limit parameter translated requests use (OpenAI's reasoning models refuse the old one).
    max_tokens_param: str = "max_tokens"
    # Tool call ids must be this many letters and digits (``tool_ids``); None: any id.
    tool_call_id_size: int | None = None
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


CATALOG: dict[str, CatalogRow] = {
    "openai": CatalogRow(
        "https://api.openai.com/v1", "OPENAI_API_KEY", max_tokens_param="max_completion_tokens"
    ),
    "groq": CatalogRow(
        "https://api.groq.com/openai/v1",
        "GROQ_API_KEY",
        drop_params=frozenset({"logprobs", "top_logprobs", "logit_bias"}),
        notes="n must be 1; logprobs unsupported",
    ),
    "together": CatalogRow("https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    "mistral": CatalogRow(
        "https://api.mistral.ai/v1",
        "MISTRAL_API_KEY",
        drop_params=frozenset({"logprobs", "top_logprobs", "logit_bias", "user", "stream_options"}),
        rename_params=(("seed", "random_seed"), ("max_completion_tokens", "max_tokens")),
        tool_call_id_size=9,
        notes="usage always arrives in the last stream chunk; tool call ids are nine letters or digits",
    ),
    "deepseek": CatalogRow("https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "fireworks": CatalogRow("https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"),
    "openrouter": CatalogRow(
        "https://openrouter.ai/api/v1",
        "OPENROUTER_API_KEY",
        headers=(("x-title", "Tollhouse"),),
    ),
    "vllm": CatalogRow("http://127.0.0.1:8000/v1", None),
    "ollama": CatalogRow(
        "http://127.0.0.1:11434/v1",
        None,
        drop_params=frozenset({"logprobs", "top_logprobs", "logit_bias", "n"}),
    ),
}

GENERIC = CatalogRow(base_url="", api_key_env=None)
