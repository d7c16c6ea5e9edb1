"""The comment box on the website's product pages: the site posts each comment signed with
a shared secret and a timestamp, and takes our answers on its callback URL (without one,
answers wait in the outbox until it is configured)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.outbound import Sender
from connectors.webhooks import Parsed, json_object
from switchboard.channels.spec import ChannelSpec, Conversation, Webhook
from tickets.messages import Channel

log = logging.getLogger("switchboard.channels")


def read(body: bytes, headers: Mapping[str, str], config: Any, now: datetime) -> Parsed:
    from connectors.web_comments import webhook

    webhook.verify(body, headers.get("x-switchboard-signature"),
                   headers.get("x-switchboard-timestamp"), config.secret, now=now.timestamp())
    return webhook.parse(json_object(body), now)


def sender(config: Any, timeout: float) -> Sender | None:
    if not config.callback_url:
        log.info("web comments: no callback_url, answers wait in the outbox")
        return None
    import httpx

    from connectors.web_comments.sender import CallbackSender

    return CallbackSender(config.callback_url, config.secret,
                          httpx.AsyncClient(timeout=timeout))


def address(meta: Mapping[str, str], config: Any) -> tuple[str, dict[str, object]]:
    return meta.get("from", ""), {"comment_id": meta.get("comment_id"),
                                  "product_id": meta.get("product_id")}


SPEC = ChannelSpec(
    key="web_comments",
    conversations=(Conversation(Channel.WEB_COMMENT, "Bình luận web / Website comment",
                                address),),
    webhook=Webhook("web-comments", read),
    sender=sender,
)
