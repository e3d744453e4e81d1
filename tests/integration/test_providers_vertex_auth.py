"""Vertex AI with a service-account key: the gateway mints OAuth 2 access tokens (a signed JWT
exchanged at the key's token URI, a fake of Google's), caches them and refreshes them before
they expire; the fake Vertex AI accepts only the tokens the fake endpoint minted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.google_oauth import FakeGoogleOAuth
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tollhouse.config.schema import Timeouts
from tollhouse.errors import UpstreamAuthFailed, UpstreamUnavailable
from tollhouse.providers.gemini.service_account import AccessTokens, ServiceAccountKey
from tollhouse.upstream.pool import UpstreamPool

EMAIL = "gateway@proj-1.iam.gserviceaccount.com"
KEY_ID = "3f0c9a1b2e4d"


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def gemini() -> Iterator[FakeGemini]:
    with FakeGemini("unused-api-key") as server:
        yield server


@pytest.fixture(scope="module")
def oauth(private_key: rsa.RSAPrivateKey, gemini: FakeGemini) -> Iterator[FakeGoogleOAuth]:
    with FakeGoogleOAuth(EMAIL, KEY_ID, private_key.public_key(), on_mint=gemini.vertex_tokens.add) as server:
        yield server


def key_json(oauth: FakeGoogleOAuth, key: rsa.RSAPrivateKey, key_id: str = KEY_ID) -> str:
    """A service-account key file as the Google Cloud console downloads it."""
    return orjson.dumps({
        "type": "service_account", "project_id": "proj-1", "private_key_id": key_id,
        "private_key": _pem(key), "client_email": EMAIL, "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": oauth.token_uri,
    }).decode()  # fmt: skip


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory,
    private_key: rsa.RSAPrivateKey,
    oauth: FakeGoogleOAuth,
    gemini: FakeGemini,
) -> Iterator[RunningGateway]:
    folder = tmp_path_factory.mktemp("keys")
    good, wrong = folder / "sa.json", folder / "other-sa.json"
    good.write_text(key_json(oauth, private_key))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong.write_text(key_json(oauth, other_key, "disabled-key"))  # a key the endpoint refuses
    vertex = {"kind": "vertex", "base_url": gemini.base_url, "project": "proj-1", "region": "europe-west4"}
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {
            "vertex": {**vertex, "service_account": f"file:{good}"},
            "vertex-wrong": {**vertex, "service_account": f"file:{wrong}"},
        },
        "models": [
            {"alias": "gemini-sa", "target": "vertex/gemini-2.5-pro"},
            {"alias": "gemini-wrong", "target": "vertex-wrong/gemini-2.5-pro"},
        ],
    }
    with RunningGateway(config) as gw:
        yield gw


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0) as c:
        yield c


@covers("chat", ("vertex",), "basic", "stream_text")
def test_minted_token_reaches_vertex_and_is_reused(
    client: openai.OpenAI, oauth: FakeGoogleOAuth, gemini: FakeGemini
) -> None:
    before = len(oauth.minted)
    sdk_checks.check_chat(client, "gemini-sa")
    sdk_checks.check_stream(client, "gemini-sa")
    sdk_checks.check_chat(client, "gemini-sa")
    assert len(oauth.minted) - before <= 1  # one exchange (none when an earlier test minted it)
    assert gemini.last_request.headers["authorization"] == f"Bearer {oauth.minted[-1]}"
    claims = oauth.claims[-1]
    assert claims["iss"] == EMAIL and claims["aud"] == oauth.token_uri
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert claims["exp"] - claims["iat"] == 3600


@covers("chat", ("vertex",), "errors")
def test_refused_key_is_an_upstream_auth_failure(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="gemini-wrong", messages=sdk_checks.MESSAGES)
    assert caught.value.status_code == 502 and caught.value.code == "upstream_auth_failed"
    assert "invalid_grant" in caught.value.message
    assert "PRIVATE KEY" not in caught.value.message and "disabled-key" not in caught.value.message


class Clock:
    """The time the token cache sees, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def tokens(oauth: FakeGoogleOAuth, private_key: rsa.RSAPrivateKey) -> Any:
    pool = UpstreamPool()
    clock = Clock()
    oauth.expires_in, oauth.fail_with = 3600, None
    cache = AccessTokens(
        ServiceAccountKey.parse(key_json(oauth, private_key)), pool, "vertex", Timeouts(), clock
    )
    yield cache, clock
    await pool.close()


async def test_token_is_cached_until_the_refresh_window(tokens: Any, oauth: FakeGoogleOAuth) -> None:
    cache, clock = tokens
    first = await cache.token()
    clock.now += 3000  # 10 minutes left: still the same token, no exchange
    assert await cache.token() == first and oauth.minted[-1] == first


async def test_refresh_ahead_keeps_serving_the_current_token(tokens: Any, oauth: FakeGoogleOAuth) -> None:
    cache, clock = tokens
    first = await cache.token()
    clock.now += 3400  # in the last 5 minutes: answered at once, refreshed in the background
    assert await cache.token() == first
    for _ in range(200):
        if oauth.minted[-1] != first:
            break
        await asyncio.sleep(0.01)
    assert await cache.token() == oauth.minted[-1] != first


async def test_expired_token_waits_for_a_new_one(tokens: Any, oauth: FakeGoogleOAuth) -> None:
    cache, clock = tokens
    first = await cache.token()
    clock.now += 3590  # inside the last minute: not used any more
    assert await cache.token() != first


async def test_concurrent_callers_share_one_exchange(tokens: Any, oauth: FakeGoogleOAuth) -> None:
    cache, _ = tokens
    before = len(oauth.minted)
    got = await asyncio.gather(*(cache.token() for _ in range(20)))
    assert len(set(got)) == 1 and len(oauth.minted) == before + 1


async def test_failing_endpoint_then_recovery(tokens: Any, oauth: FakeGoogleOAuth) -> None:
    cache, _ = tokens
    oauth.fail_with = 503
    with pytest.raises(UpstreamUnavailable, match="token endpoint failed with HTTP 503"):
        await cache.token()
    oauth.fail_with = None
    assert await cache.token() == oauth.minted[-1]  # the next call exchanges again


async def test_wrong_key_is_refused(oauth: FakeGoogleOAuth) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pool = UpstreamPool()
    cache = AccessTokens(ServiceAccountKey.parse(key_json(oauth, other)), pool, "vertex", Timeouts())
    try:
        with pytest.raises(UpstreamAuthFailed, match="invalid_grant"):
            await cache.token()
    finally:
        await pool.close()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not JSON"),
        ('{"type": "authorized_user"}', "not a service-account key"),
        ('{"type": "service_account", "client_email": "a@b"}', "lacks private_key, token_uri"),
        (
            '{"type": "service_account", "client_email": "a@b", "token_uri": "http://x", "private_key": "k"}',
            "not a PEM private key",
        ),
    ],
)
def test_bad_key_files_are_config_errors(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ServiceAccountKey.parse(text)


def test_key_file_path_never_needed_at_request_time(tmp_path: Path) -> None:
    """The key is read when the config compiles: a missing file is a config error."""
    from tollhouse.config.compile import ConfigError, compile_config
    from tollhouse.config.load import parse_config

    config = parse_config(
        "auth: {master_keys: [sk-x]}\nproviders:\n  v: {kind: vertex, project: p, "
        f"service_account: 'file:{tmp_path / 'missing.json'}'}}\nmodels: [{{alias: g, target: v/gemini-2.5-pro}}]\n"
    )
    with pytest.raises(ConfigError, match="service_account"):
        compile_config(config)


@pytest.mark.parametrize("api_key", ["sk-token", "vault:vertex-token"])
def test_a_service_account_and_an_api_key_together_are_a_config_error(tmp_path: Path, api_key: str) -> None:
    """Either credential alone is clear; both would leave one silently unused — a vault key too,
    though the vault is read only once the gateway runs."""
    from tollhouse.config.compile import ConfigError, compile_config
    from tollhouse.config.load import parse_config

    key_file = tmp_path / "sa.json"
    key_file.write_text('{"type": "service_account"}')
    config = parse_config(
        "auth: {master_keys: [sk-x]}\nproviders:\n  v: {kind: vertex, project: p, "
        f"api_key: '{api_key}', service_account: 'file:{key_file}'}}\n"
        "models: [{alias: g, target: v/gemini-2.5-pro}]\n"
    )
    with pytest.raises(ConfigError, match="not both"):
        compile_config(config)
