"""Facebook: Messenger chats and comments under the page's posts arrive on one webhook,
signed with the app secret (`X-Hub-Signature-256`), and are answered through the Graph API:
chats within Messenger's 24-hour window, comments by a reply under the comment (and
privately in Messenger when `private_replies` is on)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.outbound import Sender
from connectors.webhooks import Parsed, json_object
from switchboard.channels.spec import ChannelSpec, Conversation, Webhook
from tickets.messages import Channel


def read(body: bytes, headers: Mapping[str, str], config: Any, now: datetime) -> Parsed:
    from connectors.facebook import webhook

    webhook.verify_signature(body, headers.get("x-hub-signature-256"), config.app_secret)
    return webhook.parse(json_object(body), now)


def subscribe(query: Mapping[str, str], config: Any) -> str:
    from connectors.facebook import webhook

    return webhook.verify_subscription(query, config.verify_token)


def sender(config: Any, timeout: float) -> Sender:
    import httpx

    from connectors.facebook.sender import GraphSender

    return GraphSender(config.graph_url, config.page_id, config.page_access_token,
                       httpx.AsyncClient(timeout=timeout))


def chat_address(meta: Mapping[str, str], config: Any) -> tuple[str, dict[str, object]]:
    return meta.get("psid", meta.get("from", "")), {"page_id": meta.get("page_id")}


def comment_address(meta: Mapping[str, str], config: Any) -> tuple[str, dict[str, object]]:
    return meta.get("from", ""), {"comment_id": meta.get("comment_id"),
                                  "post_id": meta.get("post_id"),
                                  "private_reply": config.private_replies}


SPEC = ChannelSpec(
    key="messenger",
    conversations=(
        Conversation(Channel.MESSENGER, "Messenger", chat_address, acknowledges=True,
                     reply_window=timedelta(hours=24)),
        Conversation(Channel.FACEBOOK_COMMENT, "Bình luận Facebook / Facebook comment",
                     comment_address),
    ),
    webhook=Webhook("messenger", read, subscribe),
    sender=sender,
)
