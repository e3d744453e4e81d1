"""What an upstream may ask of the caller during a call, and how it gets there.

Sampling (``sampling/createMessage``) and elicitation (``elicitation/create``) are relayed
when the config allows them and the caller declared the capability; ``roots/list`` and
``ping`` are answered by the gateway itself (it exposes no roots). Everything else is refused.
"""

from __future__ import annotations

from typing import Any

from tollhouse.mcp.config import RelayConfig
from tollhouse.mcp.protocol import FORBIDDEN, METHOD_NOT_FOUND, Message, RpcError
from tollhouse.mcp.sessions import Channel

_CAPABILITY = {"sampling/createMessage": "sampling", "elicitation/create": "elicitation"}


class CallRelay:
    """The ``Relay`` of one call: upstream traffic for its caller, under the relay policy."""

    def __init__(self, channel: Channel, policy: RelayConfig, server: str) -> None:
        self._channel = channel
        self._policy = policy
        self._server = server
        self.asked: list[str] = []  # what the upstream asked, for the audit record

    async def notify(self, message: Message) -> None:
        await self._channel.notify(message)

    async def ask(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        self.asked.append(method)
        if method == "ping":
            return {}
        if method == "roots/list":
            return {"roots": []}
        capability = _CAPABILITY.get(method)
        if capability is None:
            raise RpcError(METHOD_NOT_FOUND, f"the gateway does not relay {method}")
        if getattr(self._policy, capability) != "allow":
            raise RpcError(FORBIDDEN, f"{capability} requests from MCP servers are not allowed here")
        if not self._channel.can(capability):
            raise RpcError(FORBIDDEN, f"the client does not support {capability}")
        return await self._channel.ask(method, params)
