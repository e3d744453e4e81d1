"""One HTTP attempt to an upstream, with transport failures mapped to typed errors once."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from yarl import URL

from tollhouse.errors import UpstreamTimeout, UpstreamUnavailable


async def post(
    session: aiohttp.ClientSession,
    url: str | URL,
    body: bytes,
    headers: Mapping[str, str],
    timeout: aiohttp.ClientTimeout,
    provider: str,
) -> aiohttp.ClientResponse:
    """POST ``body``; return the response once its headers arrive. The caller releases it."""
    try:
        return await session.post(url, data=body, headers=headers, timeout=timeout)
    except TimeoutError as exc:
        raise UpstreamTimeout(f"provider {provider} did not answer in time") from exc
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamUnavailable(f"cannot connect to provider {provider}") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise UpstreamUnavailable(f"provider {provider} connection failed: {type(exc).__name__}") from exc


async def read_body(response: aiohttp.ClientResponse, provider: str) -> bytes:
    """The whole response body, with transport failures mapped."""
    try:
        return await response.read()
    except TimeoutError as exc:
        raise UpstreamTimeout(f"provider {provider} stopped sending its response") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise UpstreamUnavailable(
            f"provider {provider} broke off its response: {type(exc).__name__}"
        ) from exc
    finally:
        response.release()
