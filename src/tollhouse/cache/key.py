"""Cache keys: the canonical request and the tenant it belongs to.

The request is its decoded body serialised with sorted keys (so key order and whitespace do
not matter), plus the API surface and dialect; the tenant is part of the key, so one
tenant's answer can never be another's unless the cache is configured as shared.
"""

from __future__ import annotations

import hashlib

import orjson

from tollhouse.pipeline.context import RequestContext

SHARED = "shared"


def tenant_of(ctx: RequestContext, scope: str) -> str:
    """Whose cache a call reads and writes: per organisation (else caller), per caller, or shared."""
    if scope == SHARED:
        return SHARED
    principal = ctx.principal
    if principal is None:
        return "anonymous"
    if scope == "tenant" and principal.org_id:
        return "org:" + principal.org_id
    return f"principal:{principal.kind}:{principal.id}"


def cache_key(ctx: RequestContext, tenant: str) -> str:
    """The key of this call's answer for ``tenant``."""
    digest = hashlib.sha256(f"{tenant}\x00{ctx.surface}\x00{ctx.dialect}\x00".encode())
    digest.update(orjson.dumps(ctx.payload, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()
