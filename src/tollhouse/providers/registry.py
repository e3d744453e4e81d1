"""Provider kinds as import strings: a provider's module is imported only when configured."""

from __future__ import annotations

import importlib
from typing import Any

from tollhouse.providers.openai_compatible.catalog import CATALOG

_KINDS: dict[str, str] = {
    "demo": "tollhouse.providers.demo.provider:DemoProvider",
    "openai_compatible": "tollhouse.providers.openai_compatible.provider:OpenAICompatibleProvider",
    "anthropic": "tollhouse.providers.anthropic.provider:AnthropicProvider",
    "gemini": "tollhouse.providers.gemini.provider:GeminiProvider",
    "vertex": "tollhouse.providers.gemini.provider:VertexProvider",
    "azure": "tollhouse.providers.azure.provider:AzureProvider",
    "azure_ad": "tollhouse.providers.azure.provider:AzureADProvider",
    "bedrock": "tollhouse.providers.bedrock.provider:BedrockProvider",
    "cohere": "tollhouse.providers.cohere.provider:CohereProvider",
    "ollama_native": "tollhouse.providers.ollama.provider:OllamaProvider",
}

# Native kinds usable in a model target without a `providers` entry: the key's variable.
NATIVE_KEY_ENV: dict[str, str] = {
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "cohere": "CO_API_KEY",
}


def known_kinds() -> list[str]:
    return sorted({*_KINDS, *CATALOG})


def provider_class(kind: str) -> Any:
    """The class implementing ``kind``; catalog names resolve to the OpenAI-compatible one."""
    target = _KINDS.get(kind) or (_KINDS["openai_compatible"] if kind in CATALOG else None)
    if target is None:
        raise KeyError(kind)
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
