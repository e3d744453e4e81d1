"""The admin API's endpoint table: one row per (method, path), with the action it needs."""

from __future__ import annotations

from tollhouse.admin import directory_handlers as d
from tollhouse.admin import key_handlers as k
from tollhouse.admin import policy_handlers as p
from tollhouse.admin import roles as r
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
)
