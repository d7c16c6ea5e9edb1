"""How a platform's HTTP answer maps to a send result: 2xx sent, 429/5xx/timeouts retried
with back-off, other 4xx refused for good with the platform's own words."""

from __future__ import annotations

import httpx

from connectors.outbound import SendFailed


def raise_for(response: httpx.Response, platform: str) -> None:
    if response.is_success:
        return
    detail = response.text[:300]
    if response.status_code == 429 or response.status_code >= 500:
        raise SendFailed(f"{platform} answered {response.status_code}: {detail}")
    raise SendFailed(f"{platform} refused ({response.status_code}): {detail}", permanent=True)


async def post(client: httpx.AsyncClient, url: str, platform: str, *, check: bool = True,
               **kwargs: object) -> httpx.Response:
    """POST; network trouble becomes a retried SendFailed, and (with `check`) so does an
    error status, as `raise_for` says."""
    try:
        response = await client.post(url, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException as exc:
        raise SendFailed(f"{platform} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise SendFailed(f"{platform} unreachable: {exc}") from exc
    if check:
        raise_for(response, platform)
    return response
