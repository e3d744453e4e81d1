"""The contract every upstream connection meets, and what they share.

A ``Link`` is the gateway's one connection to an upstream MCP server, shared by every
caller: ``request`` sends a JSON-RPC request and returns its result dict (raising
``RpcError`` for the upstream's error, a ``tollhouse.errors.UpstreamError`` for a
transport failure). What the upstream sends while it handles a request — progress,
log messages, sampling and elicitation requests — goes to that call's ``Relay``.

Progress tokens are rewritten per link (``th-<n>``) because callers choose their own and
two callers of one shared upstream session could choose the same one.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any, Protocol

from tollhouse.mcp.protocol import INTERNAL_ERROR, Message, RpcError, progress_token

log = logging.getLogger("tollhouse.mcp")

CLIENT_INFO = {"name": "tollhouse", "title": "Tollhouse MCP gateway", "version": "0.1"}
CLIENT_CAPABILITIES: dict[str, Any] = {"sampling": {}, "elicitation": {}, "roots": {"listChanged": False}}


class Relay(Protocol):
    """Where one call's upstream traffic goes: the caller that made it."""

    async def notify(self, message: Message) -> None:
        """A notification for the caller (progress with the caller's own token, a log line)."""
        ...

    async def ask(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        """A request the upstream makes of the caller (sampling, elicitation); its result."""
        ...


class Link(Protocol):
    """The gateway's connection to one upstream, shared by every caller."""

    name: str

    async def request(
        self, method: str, params: dict[str, Any] | None, relay: Relay | None = None
    ) -> dict[str, Any]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


Listener = Callable[[str, Message], None]  # (server name, notification) for list_changed & co.


class Calls:
    """A link's in-flight calls: their relays, and the progress tokens rewritten for them."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._tokens: dict[str, tuple[Relay, Any]] = {}
        self.relays: dict[Any, Relay] = {}

    def next_id(self) -> int:
        return next(self._ids)

    def open(self, rid: Any, params: dict[str, Any] | None, relay: Relay | None) -> dict[str, Any] | None:
        """Register a call; return its params with the caller's progress token replaced."""
        if relay is None:
            return params
        self.relays[rid] = relay
        original = progress_token(params)
        if original is None or params is None:
            return params
        token = f"th-{rid}"
        self._tokens[token] = (relay, original)
        return {**params, "_meta": {**params["_meta"], "progressToken": token}}

    def close(self, rid: Any, params: dict[str, Any] | None) -> None:
        self.relays.pop(rid, None)
        self._tokens.pop(f"th-{rid}", None)

    async def progress(self, message: Message) -> bool:
        """Hand a progress notification to its call with the caller's token; False if unknown."""
        params = message.get("params") or {}
        found = self._tokens.get(str(params.get("progressToken")))
        if found is None:
            return False
        relay, original = found
        await relay.notify({**message, "params": {**params, "progressToken": original}})
        return True

    def sole_relay(self) -> Relay | None:
        """The relay of the one call in flight, if exactly one is (transports that do not say
        which call a server's request belongs to: stdio, legacy SSE)."""
        if len(self.relays) == 1:
            return next(iter(self.relays.values()))
        return None


async def answer(relay: Relay | None, message: Message) -> Message:
    """The response to a request an upstream made of the caller, via ``relay``."""
    rid = message.get("id")
    if relay is None:
        error = RpcError(INTERNAL_ERROR, f"{message.get('method')} cannot be relayed: no caller to ask")
        return {"jsonrpc": "2.0", "id": rid, "error": error.to_json()}
    try:
        result = await relay.ask(str(message["method"]), message.get("params"))
    except RpcError as exc:
        return {"jsonrpc": "2.0", "id": rid, "error": exc.to_json()}
    except Exception:
        log.exception("relaying %s failed", message.get("method"))
        error = RpcError(INTERNAL_ERROR, "the caller could not answer")
        return {"jsonrpc": "2.0", "id": rid, "error": error.to_json()}
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def outcome(message: Message) -> dict[str, Any]:
    """A response's result, or its error raised as ``RpcError``."""
    if "error" in message:
        error = message["error"] if isinstance(message["error"], dict) else {}
        raise RpcError(
            int(error.get("code", INTERNAL_ERROR)), str(error.get("message", "")), error.get("data")
        )
    result = message.get("result")
    return result if isinstance(result, dict) else {}


def initialize_params(version: str) -> dict[str, Any]:
    """The gateway's ``initialize`` as a client of an upstream."""
    return {"protocolVersion": version, "capabilities": CLIENT_CAPABILITIES, "clientInfo": CLIENT_INFO}
