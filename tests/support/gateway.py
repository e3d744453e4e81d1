"""Running the real gateway app on a loopback port for integration tests.

``RunningGateway`` serves the compiled app with uvicorn (uvloop + httptools, as production
does) in a background thread, so the official SDK clients talk to it over real HTTP.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
import yaml

from tollhouse.config.load import parse_config
from tollhouse.http.app import GatewayApp
from tollhouse.http.factory import build_app, demo_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningGateway:
    """The gateway built from ``config`` (a dict or YAML text), serving on 127.0.0.1."""

    def __init__(self, config: dict[str, Any] | str) -> None:
        text = config if isinstance(config, str) else yaml.safe_dump(config)
        self.app: GatewayApp = build_app(parse_config(text), configure_logging=False)
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.url}/v1"
        config_obj = uvicorn.Config(
            self.app,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config_obj)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> RunningGateway:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("gateway did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> RunningGateway:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def demo_gateway_config(key: str, **sections: Any) -> dict[str, Any]:
    """The demo config (``make run``'s) accepting ``key``, with ``sections`` set over it."""
    return demo_config().model_dump(mode="json") | {"auth": {"master_keys": [key]}} | sections


def upstream_config(base_url: str, **server: Any) -> dict[str, Any]:
    """A config routing a few aliases to a fake OpenAI upstream at ``base_url``."""
    return {
        "server": {"body_timeout_s": 2, **server},
        "auth": {"master_keys": ["sk-client-master-0001"]},
        "providers": {
            "fake": {
                "kind": "openai_compatible",
                "base_url": base_url,
                "api_key": "sk-upstream-secret-9f8e7d",
                "timeouts": {"connect_s": 2, "first_byte_s": 2, "total_s": 3},
            },
        },
        "models": [
            {"alias": "gpt-test", "target": "fake/gpt-4o-mini"},
            {"alias": "embed-test", "target": "fake/text-embedding-3-small"},
            # Aliases whose upstream model name makes the fake misbehave.
            *(
                {"alias": name, "target": f"fake/{name}"}
                for name in (
                    "error-400",
                    "error-401",
                    "error-404",
                    "error-429",
                    "error-500",
                    "error-503",
                    "slow-4",
                    "slow-1",
                    "hang-stream",
                    "garbage",
                    "drop",
                )
            ),
        ],
    }


CLIENT_KEY = "sk-client-master-0001"
UPSTREAM_KEY = "sk-upstream-secret-9f8e7d"
