"""Azure OpenAI request targets: deployment URLs with ``api-version``, or the v1 API.

Deployment API (https://learn.microsoft.com/azure/ai-foundry/openai/reference):
``{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`` — the
deployment, not the body's ``model``, picks the model. With ``api_version: v1`` the newer
``{endpoint}/openai/v1/chat/completions`` is used and the model travels in the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

DEFAULT_API_VERSION = "2024-10-21"  # the latest GA data-plane version at the time of writing


@dataclass(frozen=True, slots=True)
class AzureTarget:
    """Builds URLs for one Azure OpenAI resource."""

    endpoint: str  # https://RESOURCE.openai.azure.com
    api_version: str
    deployments: Mapping[str, str]

    def url(self, model: str, operation: str) -> str:
        """The URL for ``operation`` (``chat/completions``, ``embeddings``) on ``model``."""
        if self.api_version == "v1":
            return f"{self.endpoint}/openai/v1/{operation}"
        deployment = quote(self.deployments.get(model, model), safe="")
        return f"{self.endpoint}/openai/deployments/{deployment}/{operation}?api-version={self.api_version}"
