"""Config → the identity parts of the runtime: snapshot holder, policies, background services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from tollhouse.config.load import ConfigIssue
from tollhouse.config.secrets import Secret, SecretError, SecretRef
from tollhouse.identity.cedar_engine import parse_policies
from tollhouse.identity.change_feed import ChangeFeed
from tollhouse.identity.errors import InvalidInput
from tollhouse.identity.provider_keys import ProviderKeys, VaultKeyUse
from tollhouse.identity.refresh import IdentityRefresher
from tollhouse.identity.snapshot import EMPTY, IdentityState, build_snapshot
from tollhouse.identity.tokens import TokenVerifier
from tollhouse.identity.vault import Vault, VaultError
from tollhouse.pipeline.policy import Policy
from tollhouse.policies.auth_failures import SharedFailures
from tollhouse.policies.auth_throttle import AuthThrottle
from tollhouse.policies.authorize import Authorize
from tollhouse.policies.master_key import MasterKeyAuth
from tollhouse.policies.virtual_key import VirtualKeyAuth
from tollhouse.storage.engine import create_engine

if TYPE_CHECKING:
    from tollhouse.audit.admin_changes import AdminAudit
    from tollhouse.config.runtime import Observer
    from tollhouse.config.schema import GatewayConfig


@dataclass(frozen=True, slots=True)
class IdentityParts:
    """What ``compile_config`` puts into the runtime for identity and access control."""

    state: IdentityState
    front: tuple[Policy, ...]  # AUTHENTICATE phase, in order: throttle, then authenticate
    behind: tuple[Policy, ...]  # AUTHORIZE phase
    observers: tuple[Observer, ...] = field(default=())
    provider_keys: ProviderKeys | None = None  # providers' keys from the vault, kept current


def _resolve(
    ref: SecretRef | None, path: str, issues: list[ConfigIssue], secrets: list[Secret]
) -> str | None:
    if ref is None:
        return None
    try:
        secret = ref.resolve()
    except SecretError as exc:
        issues.append(ConfigIssue(path, str(exc)))
        return None
    secrets.append(secret)
    return secret.reveal()


def _config_policies(config: GatewayConfig, issues: list[ConfigIssue]) -> list[tuple[str, str]]:
    good = []
    for i, policy in enumerate(config.authorization.policies):
        try:
            parse_policies(policy.id, policy.text)
        except InvalidInput as exc:
            issues.append(ConfigIssue(f"authorization.policies.{i}.text", exc.message))
            continue
        good.append((policy.id, policy.text))
    return good


def build_vault(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> Vault | None:
    if not config.vault.master_keys:
        return None
    keys: dict[int, str] = {}
    for version, ref in config.vault.master_keys.items():
        value = _resolve(ref, f"vault.master_keys.{version}", issues, secrets)
        if value is not None:
            keys[version] = value
    try:
        return Vault(keys) if keys else None
    except VaultError as exc:
        issues.append(ConfigIssue("vault.master_keys", str(exc)))
        return None


def _front(
    config: GatewayConfig, master_keys: list[Secret], state: IdentityState, shared: SharedFailures | None
) -> tuple[Policy, ...]:
    throttle_cfg = config.auth_throttle
    chosen: list[Policy] = []
    if throttle_cfg.enabled:
        chosen.append(
            AuthThrottle(
                throttle_cfg.max_failures,
                throttle_cfg.window_s,
                throttle_cfg.block_s,
                throttle_cfg.max_clients,
                shared,
            )
        )
    open_mode = config.auth.allow_unauthenticated
    if not config.identity.enabled and not config.jwt.issuers:
        chosen.append(MasterKeyAuth(master_keys, open_mode))  # master keys only: nothing to look up
        return tuple(chosen)
    tokens = TokenVerifier(config.jwt.issuers) if config.jwt.issuers else None
    keys_state = state if config.identity.enabled else None
    header = config.identity.delegation_header
    chosen.append(VirtualKeyAuth(master_keys, keys_state, tokens, header, open_mode))
    return tuple(chosen)


def _provider_keys(
    uses: Sequence[VaultKeyUse], vault: Vault | None, db_url: str | None, issues: list[ConfigIssue]
) -> ProviderKeys | None:
    if not uses:
        return None
    # The vault's rows live in the identity database, which the refresher watches for changes.
    needs = [] if vault is not None else ["vault.master_keys"]
    if db_url is None:
        needs.append("identity.enabled with a database.url")
    if needs:
        for use in uses:
            issues.append(
                ConfigIssue(
                    f"providers.{use.provider}.api_key", f"vault:{use.credential} needs {' and '.join(needs)}"
                )
            )
        return None
    assert vault is not None
    return ProviderKeys(vault, uses)


def compile_identity(
    config: GatewayConfig,
    master_keys: list[Secret],
    issues: list[ConfigIssue],
    secrets: list[Secret],
    admin_audit: AdminAudit | None = None,
    vault_keys: Sequence[VaultKeyUse] = (),
) -> IdentityParts:
    """Build the identity parts; problems go to ``issues`` like the rest of the config's.

    ``admin_audit``: the audit trail's recorder and read side, for the admin API;
    ``vault_keys``: providers whose ``api_key`` is a ``vault:`` credential."""
    authz = config.authorization
    policies = _config_policies(config, issues)
    state = IdentityState(build_snapshot(EMPTY, policies, authz.users_default, authz.cache_ttl_s))
    redis_url = _resolve(config.redis.url, "redis.url", issues, secrets)
    throttle = config.auth_throttle
    shared = None  # with Redis, every replica counts a client's failures together
    if redis_url is not None and throttle.enabled:
        shared = SharedFailures(redis_url, throttle.window_s, throttle.block_s, throttle.max_failures)
    front = _front(config, master_keys, state, shared)
    base: tuple[Observer, ...] = (shared,) if shared is not None else ()
    ident = config.identity
    # Only master keys (or no auth) means every principal is the operator: nothing to authorize.
    behind: tuple[Policy, ...] = ()
    if ident.enabled or config.jwt.issuers:
        behind = (Authorize(state, cedar=authz.enabled),)
    vault = build_vault(config, issues, secrets)
    if config.admin.enabled and not ident.enabled:
        issues.append(ConfigIssue("admin.enabled", "the admin API needs identity.enabled: true"))
    db_url = _resolve(config.database.url, "database.url", issues, secrets) if ident.enabled else None
    provider_keys = _provider_keys(vault_keys, vault, db_url, issues)
    if db_url is None:
        return IdentityParts(state, front, behind, base)
    try:
        engine = create_engine(db_url)
    except (ValueError, SQLAlchemyError) as exc:
        issues.append(ConfigIssue("database.url", f"cannot use this database URL: {type(exc).__name__}"))
        return IdentityParts(state, front, behind, base)
    feed = ChangeFeed(redis_url)
    refresher = IdentityRefresher(
        state,
        engine,
        feed,
        refresh_interval_s=ident.refresh_interval_s,
        flush_interval_s=ident.last_used_flush_s,
        migrate=config.database.migrate_on_start,
        config_policies=policies,
        users_default=authz.users_default,
        cache_ttl_s=authz.cache_ttl_s,
        provider_keys=provider_keys,
    )
    observers: list[Observer] = [*base, refresher]
    if config.admin.enabled:
        from tollhouse.admin.server import AdminServer

        observers.append(AdminServer(config, state, front, engine, feed, vault, audit=admin_audit))
    return IdentityParts(state, front, behind, tuple(observers), provider_keys)
