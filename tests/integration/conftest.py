"""Fixtures of the compatibility matrix tests (``test_matrix_*.py``): one fleet of fake
providers behind one gateway, shared by the whole session, and a test run per family; and of
the surface tests (``test_anthropic_surface.py``, ``test_responses_surface.py``): each test run
against the demo provider and against the fake OpenAI upstream."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.support.fleet import FAMILIES, NAMES, Family, Fleet
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tests.support.surfaces import Backend, demo_backend, demo_gateway, fake_backend


@pytest.fixture(scope="session")
def fleet() -> Iterator[Fleet]:
    with Fleet() as running:
        yield running


@pytest.fixture(params=FAMILIES, ids=NAMES)
def family(request: pytest.FixtureRequest, fleet: Fleet) -> Family:
    """Each provider family in turn, its fake's record cleared."""
    fleet.reset(request.param)
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def openai_sdk(fleet: Fleet) -> Iterator[openai.OpenAI]:
    """The official OpenAI SDK pointed at the fleet's gateway."""
    with openai.OpenAI(base_url=fleet.running.base_url, api_key=CLIENT_KEY, max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def demo_gw() -> Iterator[RunningGateway]:
    with demo_gateway() as gw:
        yield gw


@pytest.fixture(params=["demo", "fake"])
def backend(request: pytest.FixtureRequest, demo_gw: RunningGateway) -> Backend:
    """The demo provider's gateway, then the shared one in front of the fake OpenAI upstream."""
    if request.param == "demo":
        return demo_backend(demo_gw)
    return fake_backend(request.getfixturevalue("gateway"), request.getfixturevalue("upstream"))
