"""Authenticating Bedrock requests: AWS SigV4 (botocore's signer) or a Bedrock API key.

SigV4 signs the method, URL, headers and a hash of the body, so each request is signed
just before it is sent, over exactly the URL aiohttp will put on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as exc:  # an optional dependency: say how to get it
    raise ImportError("kind bedrock needs botocore: pip install 'tollhouse[bedrock]'") from exc
from yarl import URL

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret

SERVICE = "bedrock"


class BedrockSigner:
    """Headers for one Bedrock request: SigV4 with access keys, else ``Bearer`` API key."""

    def __init__(self, config: ProviderConfig, api_key: Secret | None, region: str) -> None:
        self._region = region
        self._bearer = api_key.reveal() if api_key is not None else None
        self._credentials: Credentials | None = None
        key_id, secret = config.aws_access_key_id, config.aws_secret_access_key
        if key_id is not None and secret is not None:
            token = config.aws_session_token.resolve().reveal() if config.aws_session_token else None
            self._credentials = Credentials(key_id.resolve().reveal(), secret.resolve().reveal(), token)
        elif key_id is not None or secret is not None:
            raise ValueError("set both aws_access_key_id and aws_secret_access_key")
        if self._credentials is None and self._bearer is None:
            raise ValueError("kind bedrock needs aws_access_key_id + aws_secret_access_key, or api_key")

    def headers(self, url: str, body: bytes, base: Mapping[str, str]) -> dict[str, str]:
        if self._credentials is None:
            return {**base, "authorization": f"Bearer {self._bearer}"}
        wire_url = str(URL(url))  # sign the URL as aiohttp will send it (its percent-encoding)
        request = AWSRequest(method="POST", url=wire_url, data=body, headers=dict(base))
        SigV4Auth(self._credentials, SERVICE, self._region).add_auth(request)
        return dict(request.headers.items())
