"""The page webhook: Messenger events (`entry[].messaging[]`) and feed changes
(`entry[].changes[]`, field `feed`), verified by `X-Hub-Signature-256`.

Meta signs the exact bytes it sent with the app secret (HMAC-SHA256, `sha256=<hex>`); the
body must not be re-serialised before checking. Meta retries until it gets a 200 (and
unsubscribes an app that keeps failing), so replays are expected: the dedup keys are the
message `mid` and the `comment_id`. Payload shape, e.g.:

    {"object": "page", "entry": [{"id": "PAGE", "time": 1700000000000, "messaging": [
      {"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"}, "timestamp": 1700000000000,
       "message": {"mid": "m_1", "text": "Đơn hàng chưa giao"}}]}]}
    {"object": "page", "entry": [{"id": "PAGE", "changes": [{"field": "feed", "value": {
      "item": "comment", "verb": "add", "comment_id": "POST_C1", "post_id": "PAGE_POST",
      "parent_id": "PAGE_POST", "from": {"id": "U1", "name": "Lan"}, "message": "...",
      "created_time": 1700000000}}]}]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.webhooks import Parsed, WebhookError, field_str, hmac_sha256_hex, same
from tickets.messages import Attachment, Channel, InboundMessage

IGNORED_MESSAGING = ("delivery", "read", "reaction", "optin", "referral", "account_linking",
                     "pass_thread_control", "take_thread_control", "request_thread_control",
                     "policy_enforcement", "standby", "message_edit")


def verify_signature(body: bytes, header: str | None, app_secret: str) -> None:
    if not header:
        raise WebhookError(401, "missing X-Hub-Signature-256")
    scheme, _, given = header.partition("=")
    if scheme != "sha256" or not same(hmac_sha256_hex(app_secret, body), given):
        raise WebhookError(403, "X-Hub-Signature-256 does not match the body")


def verify_subscription(params: Mapping[str, str], verify_token: str) -> str:
    """The GET handshake: echo `hub.challenge` when the token is ours."""
    if params.get("hub.mode") != "subscribe":
        raise WebhookError(400, "hub.mode must be subscribe")
    if not verify_token or not same(verify_token, params.get("hub.verify_token", "")):
        raise WebhookError(403, "hub.verify_token does not match")
    return params.get("hub.challenge", "")


def _when(milliseconds: Any, now: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(milliseconds) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found = []
    for item in message.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        payload = item.get("payload") or {}
        url = payload.get("url") if isinstance(payload, dict) else None
        kind = str(item.get("type") or "file")
        found.append(Attachment(filename=f"{kind}", content_type=_mime(kind), size=0, url=url))
    return tuple(found)


def _mime(kind: str) -> str:
    return {"image": "image/*", "video": "video/*", "audio": "audio/*"}.get(
        kind, "application/octet-stream")


def _messaging(event: Mapping[str, Any], page_id: str, now: datetime) -> InboundMessage | str:
    sender = field_str(event, "sender", "id")
    assert sender is not None
    when = _when(event.get("timestamp"), now)
    meta = {"page_id": page_id, "psid": sender}
    if "message" in event:
        message = event["message"]
        if not isinstance(message, dict):
            raise WebhookError(400, "message must be an object")
        if message.get("is_echo"):
            return "message echo"  # what we (or the page's people) sent
        mid = field_str(message, "mid")
        text = str(message.get("text") or "")
        quick = message.get("quick_reply") or {}
        if isinstance(quick, dict) and quick.get("payload"):
            meta["quick_reply"] = str(quick["payload"])
        attachments = _attachments(message)
        if not text and attachments:
            text = "[" + ", ".join(a.filename for a in attachments) + "]"
        assert mid is not None
        return InboundMessage(Channel.MESSENGER, mid, sender, text or "(empty)", when,
                              recipient=page_id, attachments=attachments, meta=meta)
    if "postback" in event:
        postback = event["postback"]
        if not isinstance(postback, dict):
            raise WebhookError(400, "postback must be an object")
        mid = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
        meta["postback"] = str(postback.get("payload") or "")
        text = str(postback.get("title") or postback.get("payload") or "(postback)")
        return InboundMessage(Channel.MESSENGER, str(mid), sender, text, when,
                              recipient=page_id, meta=meta)
    for kind in IGNORED_MESSAGING:
        if kind in event:
            return kind
    return "unknown messaging event"


def _comment(value: Mapping[str, Any], page_id: str, now: datetime) -> InboundMessage | str:
    if value.get("item") != "comment":
        return f"feed item {value.get('item')}"
    verb = value.get("verb")
    if verb not in ("add", "edited"):
        return f"comment {verb}"
    author = field_str(value, "from", "id")
    if author == page_id:
        return "our own page's comment"
    comment_id = field_str(value, "comment_id")
    post_id = field_str(value, "post_id")
    assert author is not None and comment_id is not None and post_id is not None
    created = str(value.get("created_time") or "")
    when = _when(int(created) * 1000, now) if created.isdigit() else now
    external_id = comment_id if verb == "add" else f"{comment_id}#edited:{created}"
    text = str(value.get("message") or "")
    if verb == "edited":
        text = f"[đã sửa bình luận / edited comment] {text}"
    meta = {"page_id": page_id, "comment_id": comment_id, "post_id": post_id,
            "parent_id": str(value.get("parent_id") or post_id)}
    return InboundMessage(Channel.FACEBOOK_COMMENT, external_id, author, text or "(empty)",
                          when, sender_name=field_str(value, "from", "name", required=False),
                          recipient=page_id, conversation=f"facebook:{post_id}:{author}",
                          meta=meta)


def parse(data: Mapping[str, Any], now: datetime,
          log_ignored: Callable[[str], None] | None = None) -> Parsed:
    if data.get("object") != "page":
        raise WebhookError(400, f"object must be 'page', not {data.get('object')!r}")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise WebhookError(400, "missing field entry (a list)")
    parsed = Parsed()
    for entry in entries:
        if not isinstance(entry, dict):
            raise WebhookError(400, "each entry must be an object")
        page_id = field_str(entry, "id")
        assert page_id is not None
        for event in entry.get("messaging") or []:
            if not isinstance(event, dict):
                raise WebhookError(400, "each messaging event must be an object")
            result = _messaging(event, page_id, now)
            _keep(parsed, result)
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise WebhookError(400, "each change must be an object with a value")
            if change.get("field") != "feed":
                parsed.ignored.append(f"field {change.get('field')}")
                continue
            _keep(parsed, _comment(change["value"], page_id, now))
    return parsed


def _keep(parsed: Parsed, result: InboundMessage | str) -> None:
    if isinstance(result, str):
        parsed.ignored.append(result)
    else:
        parsed.messages.append(result)
