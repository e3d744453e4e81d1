"""The compiled runtime: one frozen object holding everything a request needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tollhouse.config.schema import GatewayConfig
from tollhouse.observability.metrics import Metrics
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.chain import Chain
from tollhouse.providers.protocol import Provider
from tollhouse.upstream.pool import UpstreamPool


@dataclass(frozen=True, slots=True)
class Route:
    """A model alias resolved: the provider instance and the model name it is sent as."""

    alias: str
    provider: Provider
    upstream_model: str


@dataclass(frozen=True, slots=True)
class Runtime:
    """Built once from the config by ``compile_config``; swapped whole on reload."""

    config: GatewayConfig
    routes: Mapping[str, Route]
    providers: Mapping[str, Provider]
    chains: Mapping[str, Chain]  # by surface
    metrics: Metrics
    redactor: Redactor
    pool: UpstreamPool
    models_body: bytes  # GET /v1/models, rendered once
