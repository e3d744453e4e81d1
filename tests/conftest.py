"""Shared fixtures: a fake OpenAI upstream and the real gateway in front of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import UPSTREAM_KEY, RunningGateway, upstream_config


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(require_key=UPSTREAM_KEY) as fake:
        yield fake


@pytest.fixture
def upstream(fake_openai: FakeOpenAI) -> FakeOpenAI:
    # Let a previous test's cancelled handlers finish, so their counts do not leak into this one.
    fake_openai.wait_until(lambda: fake_openai.in_flight == 0, timeout_s=5)
    fake_openai.reset()
    return fake_openai


@pytest.fixture(scope="session")
def gateway(fake_openai: FakeOpenAI) -> Iterator[RunningGateway]:
    with RunningGateway(upstream_config(fake_openai.base_url)) as gw:
        yield gw
