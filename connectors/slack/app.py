"""The Slack app (slack-bolt, async): request signatures, acknowledgements within Slack's
3 seconds, and the listeners, which hand plain payloads to the desk behind `SlackDeskPort`.

Bolt checks `X-Slack-Signature` and refuses timestamps older than five minutes; it answers
Slack at once (`process_before_response=False`) and runs the listener after, so slow work
never delays the acknowledgement. Slack retries an event it thinks was lost
(`X-Slack-Retry-Num`); the desk de-duplicates by `event_id` (and actions by their own ids),
so a retry never acts twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("switchboard.slack")
IGNORED_SUBTYPES = {"bot_message", "channel_join", "channel_leave", "channel_topic",
                    "channel_purpose", "channel_name", "thread_broadcast", "pinned_item",
                    "file_share_message"}
ACTIONS = ("sb_reply", "sb_assign_me", "sb_supplier", "sb_resolve", "sb_reopen",
           "sb_transfer", "sb_category", "sb_priority", "sb_ack", "sb_status", "sb_proposal",
           "sb_macro", "sb_organise",  # the card's Merge · Split · Link form
           "sb_saved_pick")  # the reply form's *Saved reply* menu
COMMANDS = ("/ticket", "/customer", "/reply", "/search", "/merge", "/macro", "/faq")


class SlackDeskPort(Protocol):
    async def thread_message(self, event: dict[str, Any], event_id: str) -> None: ...
    async def message_changed(self, event: dict[str, Any]) -> None: ...
    async def action(self, body: dict[str, Any]) -> None: ...
    async def reply_submitted(self, body: dict[str, Any]) -> dict[str, Any] | None: ...
    async def organise_submitted(self, body: dict[str, Any]) -> dict[str, str] | None: ...
    async def command(self, name: str, body: dict[str, Any]) -> str: ...


def make_app(client: AsyncWebClient, signing_secret: str, desk: SlackDeskPort) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=signing_secret,
                   process_before_response=False, raise_error_for_unhandled_request=False)

    @app.event("message")
    async def message(event: dict[str, Any], body: dict[str, Any]) -> None:
        subtype = event.get("subtype")
        if subtype in ("message_changed", "message_deleted"):
            await desk.message_changed(event)
            return
        if event.get("bot_id") or subtype in IGNORED_SUBTYPES or subtype:
            return  # bots (ourselves included) and channel housekeeping are not replies
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return  # a message in the channel, not in a ticket's thread
        await desk.thread_message(event, str(body.get("event_id") or ""))

    for action_id in ACTIONS:
        @app.action(action_id)
        async def act(ack: AsyncAck, body: dict[str, Any]) -> None:
            await ack()
            await desk.action(body)

    forms: dict[str, Callable[[dict[str, Any]], Awaitable[Mapping[str, Any] | None]]] = {
        "sb_reply_modal": desk.reply_submitted, "sb_organise_modal": desk.organise_submitted}
    for callback_id, submitted in forms.items():
        app.view(callback_id)(_form(submitted))

    for name in COMMANDS:
        @app.command(name)
        async def command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            text = await desk.command(str(body.get("command")), body)
            await respond(text=text, response_type="ephemeral")

    return app


def _form(submitted: Callable[[dict[str, Any]], Awaitable[Mapping[str, Any] | None]]
          ) -> Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]:
    """A modal's listener: its errors are shown in the form, next to their fields."""
    async def form(ack: AsyncAck, body: dict[str, Any]) -> None:
        errors = await submitted(body)
        if errors:
            await ack(response_action="errors", errors=dict(errors))
        else:
            await ack()
    return form


async def dispatch(app: AsyncApp, body: bytes, headers: Mapping[str, str],
                   query: str = "") -> BoltResponse:
    """One HTTP request from Slack (already size-limited by the caller).

    slack_sdk's SignatureVerifier calls `int()` on `X-Slack-Request-Timestamp`, so a
    timestamp that is not a number would escape bolt as a 500: refused here as the 401 a
    bad signature gets."""
    stamp = str(headers.get("x-slack-request-timestamp") or "").strip()
    if not stamp.isascii() or not stamp.isdigit():
        return BoltResponse(status=401, body='{"detail": "missing or malformed '
                            'X-Slack-Request-Timestamp"}',
                            headers={"content-type": "application/json"})
    given: dict[str, str | Sequence[str]] = dict(headers)
    return await app.async_dispatch(AsyncBoltRequest(body=body.decode("utf-8", "replace"),
                                                     query=query, headers=given))
