"""``tollhouse serve`` as a real process (several workers), for tests of what only it does."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import yaml

from tests.support.gateway import CLIENT_KEY, free_port

TOLLHOUSE = [sys.executable, "-m", "tollhouse.cli.main"]


@contextmanager
def served_process(config: dict[str, Any], tmp_path: Path, workers: int = 2) -> Iterator[tuple[str, Path]]:
    """Serve ``config`` with ``workers`` worker processes; yields the URL and the log file."""
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    log = tmp_path / "gw.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*TOLLHOUSE, "serve", "--config", str(path), "--port", str(port), "--workers", str(workers)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=5)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.models.list()
                break
            except openai.APIConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.2)
        yield url, log
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``, in exposition ``text``."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total
