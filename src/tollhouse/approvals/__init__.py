"""Human approval of tool calls, one service for every surface.

A tool call a human must approve is a row in the ``approvals`` table: MCP tool calls (the
MCP gateway holds the call open until the decision) and tool calls a model emitted on the
LLM surfaces (the gateway withholds the answer; the caller retries once it is approved).
Approvers list and decide rows with ``tollhouse approvals`` or ``/v1/approvals``.
"""
