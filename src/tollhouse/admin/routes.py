"""The admin API's endpoint table: one row per (method, path), with the action it needs."""

from __future__ import annotations

from tollhouse.admin import audit_handlers as a
from tollhouse.admin import directory_handlers as d
from tollhouse.admin import key_handlers as k
from tollhouse.admin import policy_handlers as p
from tollhouse.admin import roles as r
from tollhouse.admin import usage_handlers as u
from tollhouse.admin.api import Endpoint
from tollhouse.admin.bodies import (
    CreateKey,
    CreateOrg,
    CreatePrincipal,
    CreateTeam,
    PolicyTest,
    PutCredential,
    PutPolicy,
    RotateKey,
    UpdateKey,
    UpdatePrincipal,
)
from tollhouse.approvals import admin_handlers as ap
from tollhouse.mcp import admin_handlers as m

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/whoami", None, d.whoami, "The caller and its roles"),
    Endpoint("GET", "/v1/orgs", r.READ, d.list_orgs, "List organisations"),
    Endpoint("POST", "/v1/orgs", r.TEAMS_WRITE, d.create_org, "Create an organisation", CreateOrg),
    Endpoint("GET", "/v1/teams", r.READ, d.list_teams, "List teams"),
    Endpoint("POST", "/v1/teams", r.TEAMS_WRITE, d.create_team, "Create a team", CreateTeam),
    Endpoint("GET", "/v1/teams/{team_id}", r.READ, d.get_team, "Get a team"),
    Endpoint("DELETE", "/v1/teams/{team_id}", r.TEAMS_WRITE, d.delete_team, "Delete an empty team"),
    Endpoint("GET", "/v1/principals", r.READ, d.list_principals, "List users, agents and services"),
    Endpoint(
        "POST",
        "/v1/principals",
        r.PRINCIPALS_WRITE,
        d.create_principal,
        "Create a principal",
        CreatePrincipal,
    ),
    Endpoint("GET", "/v1/principals/{principal_id}", r.READ, d.get_principal, "Get a principal"),
    Endpoint(
        "PATCH",
        "/v1/principals/{principal_id}",
        r.PRINCIPALS_WRITE,
        d.update_principal,
        "Change a principal",
        UpdatePrincipal,
    ),
    Endpoint(
        "DELETE",
        "/v1/principals/{principal_id}",
        r.PRINCIPALS_WRITE,
        d.delete_principal,
        "Remove a principal",
    ),
    Endpoint("GET", "/v1/keys", r.READ, k.list_keys, "List virtual keys (never their secrets)"),
    Endpoint(
        "POST", "/v1/keys", r.KEYS_WRITE, k.create_key, "Create a key; its secret is shown once", CreateKey
    ),
    Endpoint("GET", "/v1/keys/{key_id}", r.READ, k.get_key, "Get a key"),
    Endpoint(
        "PATCH", "/v1/keys/{key_id}", r.KEYS_WRITE, k.update_key, "Change name, scopes, tags", UpdateKey
    ),
    Endpoint("POST", "/v1/keys/{key_id}/revoke", r.KEYS_WRITE, k.revoke_key, "Revoke a key"),
    Endpoint(
        "POST",
        "/v1/keys/{key_id}/rotate",
        r.KEYS_WRITE,
        k.rotate_key,
        "Rotate with a grace period",
        RotateKey,
    ),
    Endpoint("GET", "/v1/policies", r.POLICIES_READ, p.list_policies, "List Cedar policies"),
    Endpoint(
        "PUT", "/v1/policies/{policy_id}", r.POLICIES_WRITE, p.put_policy, "Create or replace", PutPolicy
    ),
    Endpoint("DELETE", "/v1/policies/{policy_id}", r.POLICIES_WRITE, p.delete_policy, "Delete a policy"),
    Endpoint("POST", "/v1/policies/test", r.POLICIES_READ, p.test_policy, "Explain a decision", PolicyTest),
    Endpoint("GET", "/v1/credentials", r.CREDENTIALS_READ, p.list_credentials, "List provider credentials"),
    Endpoint(
        "PUT",
        "/v1/credentials/{name}",
        r.CREDENTIALS_WRITE,
        p.put_credential,
        "Store a credential",
        PutCredential,
    ),
    Endpoint(
        "DELETE", "/v1/credentials/{name}", r.CREDENTIALS_WRITE, p.delete_credential, "Delete a credential"
    ),
    Endpoint(
        "POST",
        "/v1/credentials/reseal",
        r.CREDENTIALS_WRITE,
        p.reseal_credentials,
        "Re-encrypt under the newest key",
    ),
    Endpoint("GET", "/v1/events", r.AUDIT_READ, p.list_events, "Recent admin events"),
    Endpoint(
        "GET", "/v1/audit/verify", r.AUDIT_READ, a.verify, "Verify the audit chains", query=a.VERIFY_QUERY
    ),
    Endpoint("GET", "/v1/audit/search", r.AUDIT_READ, a.search, "Find audit records", query=a.SEARCH_QUERY),
    Endpoint(
        "GET",
        "/v1/audit/sessions/{session_id}",
        r.AUDIT_READ,
        a.session_timeline,
        "An agent session's calls as a tree",
        query=a.SESSION_QUERY,
    ),
    Endpoint("GET", "/v1/audit/public-key", None, a.public_key, "The checkpoint verification keys"),
    Endpoint(
        "GET",
        "/v1/spend",
        r.AUDIT_READ,
        u.spend_by,
        "Spend by key, team, agent, session, model or day",
        query=u.SPEND_QUERY,
    ),
    Endpoint(
        "GET",
        "/v1/spend/export",
        r.AUDIT_READ,
        u.spend_export,
        "Ledger rows of a period (JSON or CSV)",
        query=u.EXPORT_QUERY,
    ),
    Endpoint("GET", "/v1/sessions/killed", r.AUDIT_READ, u.list_killed_sessions, "Sessions killed now"),
    Endpoint(
        "GET", "/v1/sessions/{session_id}", r.AUDIT_READ, u.get_session, "A session's usage, kill state"
    ),
    Endpoint(
        "POST",
        "/v1/sessions/{session_id}/kill",
        r.POLICIES_WRITE,
        u.kill_session,
        "Kill a session",
        query=u.KILL_QUERY,
    ),
    Endpoint("DELETE", "/v1/sessions/{session_id}/kill", r.POLICIES_WRITE, u.revive_session, "Lift a kill"),
    Endpoint(
        "GET",
        "/v1/mcp/definitions",
        r.POLICIES_READ,
        m.list_definitions,
        "MCP definitions seen (pinned, pending)",
    ),
    Endpoint(
        "POST",
        "/v1/mcp/definitions/approve",
        r.POLICIES_WRITE,
        m.approve_definition,
        "Pin a pending MCP definition",
        m.DefinitionDecision,
    ),
    Endpoint(
        "POST",
        "/v1/mcp/definitions/reject",
        r.POLICIES_WRITE,
        m.reject_definition,
        "Reject a pending MCP definition",
        m.DefinitionDecision,
    ),
    Endpoint("GET", "/v1/mcp/calls", r.APPROVALS_READ, m.list_calls, "MCP tool calls held for approval"),
    Endpoint(
        "POST",
        "/v1/mcp/calls/{approval_id}/approve",
        r.APPROVALS_DECIDE,
        m.approve_call,
        "Let a held MCP tool call go ahead",
        ap.Decision,
    ),
    Endpoint(
        "POST",
        "/v1/mcp/calls/{approval_id}/deny",
        r.APPROVALS_DECIDE,
        m.deny_call,
        "Refuse a held MCP tool call",
        ap.Decision,
    ),
    Endpoint("GET", "/v1/approvals", r.APPROVALS_READ, ap.list_approvals, "Tool calls held for approval"),
    Endpoint("GET", "/v1/approvals/{approval_id}", r.APPROVALS_READ, ap.get_approval, "One held tool call"),
    Endpoint(
        "POST",
        "/v1/approvals/{approval_id}/approve",
        r.APPROVALS_DECIDE,
        ap.approve,
        "Approve a held tool call",
        ap.Decision,
    ),
    Endpoint(
        "POST",
        "/v1/approvals/{approval_id}/deny",
        r.APPROVALS_DECIDE,
        ap.deny,
        "Deny a held tool call",
        ap.Decision,
    ),
)
