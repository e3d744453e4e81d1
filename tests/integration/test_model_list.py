"""``GET /v1/models`` and ``GET /v1/models/{id}`` through the official SDKs: each caller sees the
models it may use (key scopes, Cedar), in OpenAI's shape or, for Anthropic clients, in
Anthropic's pages."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import orjson
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tests.support.identity import Seeded, identity_config, seed

PERMIT_PLANNER = (
    'permit(principal == Agent::"planner", action == Action::"invoke_model", resource == Model::"gpt-test");'
)


@pytest.fixture(scope="module")
def served(
    fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningGateway, Seeded]]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('models') / 'gw.db'}"
    seeded = asyncio.run(seed(db_url))
    policies = [{"id": "planner-gpt-test", "text": PERMIT_PLANNER}]
    with RunningGateway(
        identity_config(fake_openai.base_url, db_url, authorization={"policies": policies})
    ) as gw:
        yield gw, seeded


def _openai(gw: RunningGateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0)


def _anthropic(gw: RunningGateway, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=key, max_retries=0)


def test_the_master_key_lists_every_alias_in_config_order(served: tuple[RunningGateway, Seeded]) -> None:
    gw, _ = served
    aliases = [m.alias for m in gw.app.runtime.config.models]
    listed = _openai(gw, CLIENT_KEY).models.list()
    assert [m.id for m in listed] == aliases
    assert {m.object for m in listed} == {"model"} and {m.owned_by for m in listed} == {"fake"}
    assert _openai(gw, CLIENT_KEY).models.retrieve("embed-test").id == "embed-test"


def test_a_scoped_key_and_an_agent_see_only_the_models_they_may_call(
    served: tuple[RunningGateway, Seeded],
) -> None:
    gw, seeded = served
    everything = [m.alias for m in gw.app.runtime.config.models]
    for name in ("scoped", "agent"):  # a key scoped to gpt-test; an agent Cedar permits gpt-test
        client = _openai(gw, seeded.keys[name])
        assert [m.id for m in client.models.list()] == ["gpt-test"]
        assert client.models.retrieve("gpt-test").id == "gpt-test"
        with pytest.raises(openai.NotFoundError) as caught:
            client.models.retrieve("embed-test")  # exists, but not for this caller: as if it did not
        assert caught.value.body == {
            "message": "The model `embed-test` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    assert [m.id for m in _openai(gw, seeded.keys["alice"]).models.list()] == everything  # users: allow


def test_an_unknown_model_is_a_404_in_openai_shape(served: tuple[RunningGateway, Seeded]) -> None:
    gw, _ = served
    with pytest.raises(openai.NotFoundError) as caught:
        _openai(gw, CLIENT_KEY).models.retrieve("no-such-model")
    assert caught.value.body["code"] == "model_not_found"  # type: ignore[index]
    with pytest.raises(openai.AuthenticationError):
        _openai(gw, "sk-wrong").models.list()


def test_anthropic_clients_get_anthropic_pages(served: tuple[RunningGateway, Seeded]) -> None:
    gw, seeded = served
    aliases = [m.alias for m in gw.app.runtime.config.models]
    client = _anthropic(gw, CLIENT_KEY)
    first = client.models.list(limit=2)
    assert [m.id for m in first.data] == aliases[:2] and first.has_more
    assert (first.first_id, first.last_id) == (aliases[0], aliases[1])
    assert [m.id for m in client.models.list(limit=2).iter_pages().__next__().data] == aliases[:2]
    assert [m.id for m in client.models.list(limit=3)] == aliases  # the SDK follows after_id to the end
    back = client.models.list(limit=2, before_id=aliases[3])
    assert [m.id for m in back.data] == aliases[1:3] and back.has_more
    info = client.models.retrieve("gpt-test")
    assert (info.id, info.type, info.display_name) == ("gpt-test", "model", "gpt-test")
    assert info.created_at.year >= 2026
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.models.retrieve("no-such-model")
    assert caught.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError):
        client.models.list(after_id="no-such-model")
    with pytest.raises(anthropic.BadRequestError):
        client.models.list(limit=0)
    assert [m.id for m in _anthropic(gw, seeded.keys["scoped"]).models.list()] == ["gpt-test"]


def test_model_ids_with_slashes_and_the_unversioned_paths(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    config = identity_config(
        fake_openai.base_url, f"sqlite:///{tmp_path / 'gw.db'}", identity={"enabled": False}
    )
    config["models"] = [{"alias": "openai/gpt-4o", "target": "fake/gpt-4o"}]
    with RunningGateway(config) as gw:
        assert _openai(gw, CLIENT_KEY).models.retrieve("openai/gpt-4o").id == "openai/gpt-4o"
        request = urllib.request.Request(
            f"{gw.url}/models", headers={"authorization": f"Bearer {CLIENT_KEY}"}
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert [m["id"] for m in orjson.loads(answer.read())["data"]] == ["openai/gpt-4o"]
