"""Config → the approvals service of the LLM surfaces, when a guardrail policy needs one."""

from __future__ import annotations

from tollhouse.approvals.tool_calls import ToolCallApprovals
from tollhouse.config.load import ConfigIssue
from tollhouse.config.schema import GatewayConfig
from tollhouse.config.secrets import Secret, SecretError
from tollhouse.guards.config import GuardrailPolicyConfig


def _holds(policy: GuardrailPolicyConfig) -> bool:
    """Whether the policy holds tool calls of the LLM surfaces for approval."""
    if policy.dry_run or (policy.match.surfaces and set(policy.match.surfaces) <= {"mcp"}):
        return False
    return any(
        g.action == "require_approval" and "tool_args" in (g.stages or policy.stages) for g in policy.guards
    )


def tool_call_approvals(
    config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]
) -> ToolCallApprovals | None:
    """The service, or None when no policy holds tool calls (then no database is needed)."""
    if not any(_holds(p) for p in config.guardrails.policies):
        return None
    try:
        url = config.database.url.resolve()
    except SecretError as exc:
        issues.append(ConfigIssue("database.url", str(exc)))
        return None
    secrets.append(url)
    return ToolCallApprovals(config.guardrails.approvals, url.reveal(), config.database.migrate_on_start)
