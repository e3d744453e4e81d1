"""The MCP gateway's entry from ``compile_config``: built only when routes are configured,
so the official ``mcp`` SDK is imported only by gateways that serve MCP."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tollhouse.config.load import ConfigIssue
from tollhouse.config.secrets import Secret
from tollhouse.identity.snapshot import IdentityState
from tollhouse.pipeline.policy import Policy
from tollhouse.upstream.pool import UpstreamPool

if TYPE_CHECKING:
    from tollhouse.audit.trail import AuditTrail
    from tollhouse.config.schema import GatewayConfig
    from tollhouse.mcp.gateway import McpGateway


def build_mcp(
    config: GatewayConfig,
    front: Sequence[Policy],
    state: IdentityState | None,
    trail: AuditTrail | None,
    pool: UpstreamPool,
    issues: list[ConfigIssue],
    secrets: list[Secret],
) -> McpGateway | None:
    """The gateway for ``config.mcp``, or None without routes; problems go to ``issues``."""
    if not config.mcp.routes:
        return None
    if importlib.util.find_spec("mcp") is None:
        issues.append(
            ConfigIssue("mcp.routes", "the MCP gateway needs the MCP SDK: pip install 'tollhouse[mcp]'")
        )
        return None
    from tollhouse.mcp.wiring import compile_mcp

    return compile_mcp(config, front, state, trail, pool, issues, secrets)
