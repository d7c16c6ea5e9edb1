"""Answers through the Zalo OA API (`POST /v3.0/oa/message/cs`, header `access_token`).

Zalo answers HTTP 200 with `{"error": 0, ...}` on success and a negative `error` otherwise;
a handful of codes mean "later" (rate limits, busy), the rest are final and shown on the
ticket (for example a user who does not follow the OA or has not written in the allowed
window).
"""

from __future__ import annotations

import httpx

from connectors.http_errors import post
from connectors.outbound import SendFailed
from tickets.messages import OutboundMessage

RETRY_ERRORS = {-32, -100, -101, -102}


class ZaloSender:
    def __init__(self, api_url: str, access_token: str,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url = api_url.rstrip("/") + "/v3.0/oa/message/cs"
        self.token = access_token
        self.client = client or httpx.AsyncClient(timeout=20)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, message: OutboundMessage, key: str) -> str | None:
        user_id = str(message.thread.get("user_id") or message.recipient)
        response = await post(self.client, self.url, "Zalo OA API",
                              headers={"access_token": self.token},
                              json={"recipient": {"user_id": user_id},
                                    "message": {"text": message.text}})
        body = response.json()
        error = int(body.get("error", 0))
        if error:
            reason = f"Zalo refused ({error}): {body.get('message')}"
            raise SendFailed(reason, permanent=error not in RETRY_ERRORS)
        data = body.get("data") or {}
        return str(data.get("message_id") or "")
