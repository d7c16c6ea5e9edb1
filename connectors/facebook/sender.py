"""Answers through the Graph API: Messenger's Send API, and comment replies (with an
optional private reply in Messenger, which Meta allows once per comment).

Messenger only delivers free-form answers within 24 hours of the customer's last message;
the composer refuses earlier (the agent is told at once) and a refusal here (error 10 or
subcode 2018278) is final and shown on the ticket, never retried in a loop.
"""

from __future__ import annotations

import logging

import httpx

from connectors.http_errors import post, raise_for
from connectors.outbound import SendFailed
from tickets.messages import Channel, OutboundMessage

log = logging.getLogger("switchboard.facebook")
WINDOW_ERRORS = {10, 2018278, 2018108, 551}


class GraphSender:
    def __init__(self, graph_url: str, page_id: str, access_token: str,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base = graph_url.rstrip("/")
        self.page_id = page_id
        self.token = access_token
        self.client = client or httpx.AsyncClient(timeout=20)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, message: OutboundMessage, key: str) -> str | None:
        if message.channel is Channel.FACEBOOK_COMMENT:
            return await self._comment(message)
        return await self._messenger({"id": message.recipient}, message.text)

    async def _messenger(self, recipient: dict[str, str], text: str) -> str | None:
        response = await post(
            self.client, f"{self.base}/{self.page_id}/messages", "Graph API", check=False,
            params={"access_token": self.token},
            json={"recipient": recipient, "messaging_type": "RESPONSE",
                  "message": {"text": text}})
        if response.status_code == 400:
            error = _graph_error(response)
            if {error.get("code"), error.get("error_subcode")} & WINDOW_ERRORS:
                raise SendFailed("Messenger refused: outside the 24-hour window (the customer "
                                 "must write again first)", permanent=True)
        raise_for(response, "Graph API")
        return str(response.json().get("message_id") or "")

    async def _comment(self, message: OutboundMessage) -> str | None:
        comment_id = str(message.thread["comment_id"])
        response = await post(self.client, f"{self.base}/{comment_id}/comments", "Graph API",
                              params={"access_token": self.token},
                              json={"message": message.text})
        reply_id = str(response.json().get("id") or "")
        if message.thread.get("private_reply"):
            try:
                await self._messenger({"comment_id": comment_id}, message.text)
            except SendFailed as exc:
                # the public reply is out; retrying the pair would post it twice
                log.warning("private reply to comment %s not sent: %s", comment_id, exc)
                return f"{reply_id} (private reply not sent: {exc})"
        return reply_id


def _graph_error(response: httpx.Response) -> dict[str, object]:
    try:
        error = response.json().get("error")
    except ValueError:
        return {}
    return error if isinstance(error, dict) else {}
