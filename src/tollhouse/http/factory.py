"""Building the ASGI app from a config file (used by `tollhouse serve` and by tests)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from tollhouse.config.compile import compile_config
from tollhouse.config.load import load_config, parse_config
from tollhouse.config.schema import GatewayConfig
from tollhouse.http.app import GatewayApp
from tollhouse.observability.redact import install

CONFIG_ENV = "TOLLHOUSE_CONFIG"


def demo_config() -> GatewayConfig:
    text = resources.files("tollhouse.config").joinpath("examples/demo.yaml").read_text(encoding="utf-8")
    return parse_config(text, "<built-in demo config>")


def build_app(config: GatewayConfig, source: str = "<config>", configure_logging: bool = True) -> GatewayApp:
    """Compile ``config`` and return the app; logging gets the runtime's secret scrubber."""
    runtime = compile_config(config, source)
    if configure_logging:
        install(runtime.redactor, config.logging.level, config.logging.format)
    return GatewayApp(runtime)


def load(path: str | Path | None) -> tuple[GatewayConfig, str]:
    """The config at ``path``, or the built-in demo config when ``path`` is empty."""
    if path:
        return load_config(path), str(path)
    return demo_config(), "<built-in demo config>"


def app_from_env() -> GatewayApp:
    """uvicorn factory: each worker process builds its app from ``$TOLLHOUSE_CONFIG``."""
    config, source = load(os.environ.get(CONFIG_ENV))
    return build_app(config, source)
