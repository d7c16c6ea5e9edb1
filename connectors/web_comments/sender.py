"""Answers to website comments, posted to the site's callback URL and signed like the
webhook (`X-Switchboard-Timestamp`, `X-Switchboard-Signature`)."""

from __future__ import annotations

import json
import time

import httpx

from connectors.http_errors import post
from connectors.web_comments.webhook import sign
from tickets.messages import OutboundMessage


class CallbackSender:
    def __init__(self, callback_url: str, secret: str,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url = callback_url
        self.secret = secret
        self.client = client or httpx.AsyncClient(timeout=20)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, message: OutboundMessage, key: str) -> str | None:
        body = json.dumps({
            "reply_id": key, "ticket": message.ticket_ref,
            "comment_id": message.thread.get("comment_id"),
            "product_id": message.thread.get("product_id"), "text": message.text,
        }, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        await post(self.client, self.url, "the website callback", content=body, headers={
            "Content-Type": "application/json", "X-Switchboard-Timestamp": timestamp,
            "X-Switchboard-Signature": sign(self.secret, timestamp, body),
            "Idempotency-Key": key})
        return key
