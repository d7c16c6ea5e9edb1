"""Everything Switchboard posts to Slack goes through the outbox, written in the same
transaction as the ticket change it reports (a new ticket, a customer's message, an action,
a delivery), so a crash or a Slack outage delays the card but never loses it.

Outbox rows on the `slack` channel carry an `op`:
- `card`: post the ticket message (or, once posted, update it in place) from the ticket's
  state at send time, so a late retry never shows stale buttons;
- `thread`: a line in the ticket's current thread (a customer message, a delivery notice);
- `moved`: the old card after a transfer, buttons removed, pointing to the new channel;
- `history`: the transcript, into the thread of a card a ticket was transferred to;
- `erase`: a thread line edited to say the person's data was erased.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from connectors.outbound import SendFailed
from connectors.slack import blocks
from switchboard import channels
from switchboard.desk import presence
from switchboard.settings import Settings
from switchboard.ticket_rules.sla_keeper import keeper_for
from tickets import outbox, queries
from tickets.clock import Clock, SystemClock
from tickets.customers import Tier
from tickets.database import Database
from tickets.messages import Channel, OutboundMessage
from tickets.refs import format_ref
from tickets.schema import slack_posts, suppliers, tickets

if TYPE_CHECKING:  # the client (and aiohttp under it) is only loaded where Slack runs
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("switchboard.slack")
ERASED = ("🔒 Đã xóa theo yêu cầu bảo vệ dữ liệu cá nhân / erased under the personal data "
          "protection law")
RETRY_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                "request_timeout"}


def channel_for(settings: Settings, category: str, department: str) -> str | None:
    by_category = settings.slack.category_channels.get(category)
    if by_category:
        return by_category
    known = settings.routing.departments.get(department)
    return known.slack_channel if known and known.slack_channel else None


def current_post(conn: Connection, ticket_id: int) -> Any:
    return conn.execute(select(slack_posts).where(
        slack_posts.c.ticket_id == ticket_id, slack_posts.c.current.is_(True))
        .order_by(slack_posts.c.id.desc()).limit(1)).first()


def _enqueue(conn: Connection, settings: Settings, ticket_id: int, channel: str, op: str,
             now: datetime, text: str = "", **extra: Any) -> int:
    message = OutboundMessage(Channel.SLACK, channel, text or op,
                              format_ref(settings.tickets.ref_prefix, ticket_id),
                              automatic=True, thread={"op": op, **extra})
    return outbox.enqueue(conn, ticket_id=ticket_id, message=message, kind=f"slack_{op}",
                          now=now)


def post_card(conn: Connection, settings: Settings, ticket_id: int, category: str,
              department: str, now: datetime) -> bool:
    """A new ticket's card in its channel; False when no channel is configured for it."""
    if not settings.slack.enabled:
        return False
    channel = channel_for(settings, category, department)
    if channel is None:
        return False
    post_id = conn.execute(slack_posts.insert().values(
        ticket_id=ticket_id, channel=channel, ts=None, current=True, created_at=now)
    ).inserted_primary_key[0]  # type: ignore[index]
    _enqueue(conn, settings, ticket_id, channel, "card", now, post_id=post_id)
    return True


def refresh_card(conn: Connection, settings: Settings, ticket_id: int, now: datetime) -> None:
    if not settings.slack.enabled:
        return
    post = current_post(conn, ticket_id)
    if post is not None:
        _enqueue(conn, settings, ticket_id, post.channel, "card", now, post_id=post.id)


def to_thread(conn: Connection, settings: Settings, ticket_id: int, text: str,
              now: datetime, buttons: list[tuple[str, str, str, str]] | None = None) -> None:
    """A line in the ticket's thread; `buttons` are (action_id, value, label, style)."""
    if not settings.slack.enabled:
        return
    post = current_post(conn, ticket_id)
    if post is not None:
        extra: dict[str, Any] = {"buttons": [list(b) for b in buttons]} if buttons else {}
        _enqueue(conn, settings, ticket_id, post.channel, "thread", now, text=text,
                 post_id=post.id, **extra)


def blank_line(conn: Connection, settings: Settings, ticket_id: int, post_id: int, ts: str,
               now: datetime) -> None:
    """A line in a ticket's thread (a customer's message) replaced in Slack by a note that
    the person's data was erased: Slack keeps what was posted until it is edited."""
    if settings.slack.enabled:
        post = conn.execute(select(slack_posts.c.channel).where(
            slack_posts.c.id == post_id)).first()
        if post is not None:
            _enqueue(conn, settings, ticket_id, post.channel, "erase", now, text=ERASED,
                     post_id=post_id, ts=ts)


def customer_wrote(conn: Connection, settings: Settings, ticket_id: int, author: str,
                   channel: str, text: str, now: datetime) -> None:
    """A customer's (or supplier's) follow-up, as a line in the ticket's thread."""
    to_thread(conn, settings, ticket_id, blocks.customer_message(
        author, channels.label(channel), text), now)


def supplier_wrote(conn: Connection, settings: Settings, ticket_id: int, actor: str,
                   text: str, now: datetime) -> None:
    """A supplier's emailed answer, for the desk only, in the ticket's thread."""
    to_thread(conn, settings, ticket_id,
              f"🏪 NCC *{actor}* qua email (nội bộ / internal):\n{text[:2800]}", now)


def move_card(conn: Connection, settings: Settings, ticket_id: int, category: str,
              department: str, reason: str, now: datetime) -> None:
    """After a transfer: a new card (with the history in its thread) in the new channel, and
    the old card turned into a pointer. Same channel: the card is just refreshed."""
    if not settings.slack.enabled:
        return
    old = current_post(conn, ticket_id)
    channel = channel_for(settings, category, department)
    if old is not None and (channel is None or channel == old.channel):
        refresh_card(conn, settings, ticket_id, now)
        return
    if old is not None:
        conn.execute(update(slack_posts).where(slack_posts.c.id == old.id).values(current=False))
        _enqueue(conn, settings, ticket_id, old.channel, "moved", now, post_id=old.id,
                 to_channel=channel, reason=reason)
    if post_card(conn, settings, ticket_id, category, department, now):
        post = current_post(conn, ticket_id)
        _enqueue(conn, settings, ticket_id, post.channel, "history", now, post_id=post.id)


def _left(seconds: int | None) -> str:
    if seconds is None:
        return ""
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, minutes = divmod(seconds // 60, 60)
    return f"{sign}{hours}h{minutes:02d}"


class SlackSender:
    """The outbox's sender for the `slack` channel."""

    def __init__(self, client: AsyncWebClient, db: Database, settings: Settings,
                 clock: Clock | None = None) -> None:
        self.client = client
        self.db = db
        self.settings = settings
        self.clock = clock or SystemClock()

    async def aclose(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed:
            await session.close()

    async def send(self, message: OutboundMessage, key: str) -> str | None:
        # here, not at the top: the pipeline imports this module and never sends to Slack
        from slack_sdk.errors import SlackApiError

        op = str(message.thread.get("op"))
        if op == "dm":  # to a person (a manager told of a late ticket): no card involved
            try:
                answer = await self.client.chat_postMessage(channel=message.recipient,
                                                            text=message.text)
            except SlackApiError as exc:
                error = str(exc.response.get("error") or exc.response.status_code)
                raise SendFailed(f"Slack refused the direct message: {error}",
                                 permanent=error not in RETRY_ERRORS) from exc
            return str(answer.get("ts") or "")
        post = await asyncio.to_thread(self._post, int(message.thread["post_id"]))
        if post is None:
            raise SendFailed("the ticket's Slack post is gone", permanent=True)
        try:
            if op == "card":
                return await self._card(post)
            if op == "moved":
                return await self._moved(post, message)
            if op == "erase":
                await self.client.chat_update(channel=post.channel,
                                              ts=str(message.thread["ts"]), text=ERASED)
                return str(message.thread["ts"])
            if op in ("thread", "history"):
                if post.ts is None:
                    raise SendFailed("the ticket's card is not posted yet")
                text = message.text if op == "thread" else await asyncio.to_thread(
                    self._transcript, post.ticket_id)
                buttons = message.thread.get("buttons") if op == "thread" else None
                answer = await self.client.chat_postMessage(
                    channel=post.channel, thread_ts=post.ts, text=text, mrkdwn=True,
                    blocks=blocks.text_with_buttons(text, buttons) if buttons else None)
                return str(answer.get("ts") or "")
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            raise SendFailed(f"Slack refused {op}: {error}",
                             permanent=error not in RETRY_ERRORS
                             and exc.response.status_code < 500) from exc
        except (TimeoutError, OSError) as exc:
            raise SendFailed(f"Slack unreachable: {exc}") from exc
        raise SendFailed(f"unknown Slack op {op!r}", permanent=True)

    def _post(self, post_id: int) -> Any:
        with self.db.read() as conn:
            return conn.execute(select(slack_posts).where(slack_posts.c.id == post_id)).first()

    async def _card(self, post: Any) -> str:
        if not post.current:  # a card refresh queued before a transfer: nothing to show
            return str(post.ts or "")
        text, attachments = await asyncio.to_thread(self._render, post.ticket_id)
        if post.ts is None:
            answer = await self.client.chat_postMessage(channel=post.channel, text=text,
                                                        attachments=attachments)
            ts = str(answer["ts"])
            await asyncio.to_thread(self._remember, post.id, ts)  # before mark_sent: a
            return ts                                              # retry then updates
        await self.client.chat_update(channel=post.channel, ts=post.ts, text=text,
                                      attachments=attachments)
        return str(post.ts)

    async def _moved(self, post: Any, message: OutboundMessage) -> str | None:
        if post.ts is None:
            return None  # never shown: nothing to turn into a pointer
        ref = message.ticket_ref
        text, attachments = blocks.moved_card(ref, str(message.thread.get("to_channel") or ""),
                                              str(message.thread.get("reason") or ""))
        await self.client.chat_update(channel=post.channel, ts=post.ts, text=text,
                                      attachments=attachments)
        return str(post.ts)

    def _remember(self, post_id: int, ts: str) -> None:
        with self.db.write() as conn:
            conn.execute(update(slack_posts).where(slack_posts.c.id == post_id).values(ts=ts))

    def _render(self, ticket_id: int) -> tuple[str, list[dict[str, Any]]]:
        settings = self.settings
        prefix = settings.tickets.ref_prefix
        with self.db.read() as conn:
            ticket = queries.get_ticket(conn, prefix, ticket_id)
            if ticket is None:
                raise SendFailed("the ticket is gone", permanent=True)
            tiers = [Tier(t.name, t.min_spend) for t in settings.customers.tiers]
            customer = queries.customer_profile(conn, prefix, ticket["customer_id"], tiers,
                                                datetime.now().astimezone())
            supplier_name = None
            if ticket.get("supplier_id"):
                supplier_name = conn.execute(select(suppliers.c.name).where(
                    suppliers.c.id == ticket["supplier_id"])).scalar()
            ticket["id"] = ticket_id
            assignee, clocks = conn.execute(select(tickets.c.assignee, tickets.c.sla).where(
                tickets.c.id == ticket_id)).one()
            replying = presence.holder(conn, ticket_id, self.clock.now())
        view = keeper_for(settings).view(clocks, datetime.now(UTC))
        if view:
            ticket["sla_due"] = {
                name: (f"{t['due'].astimezone(settings.zone):%d/%m %H:%M}"
                       + (" ✓" if t["met"] else " ✗" if t["done"] else
                          " ⏸" if t["paused"] else f" ({_left(t['left_seconds'])})"))
                for name, t in view["timers"].items()}
            ticket["sla_acknowledged"] = bool(view["acknowledged"])
        mention = None
        if assignee:
            agent = next((a for a in settings.agents if a.name == assignee), None)
            mention = f"<@{agent.slack_user}>" if agent and agent.slack_user else assignee
        if replying is not None:
            mention = f"{mention or ''} · ✍️ {replying[0]} đang trả lời / is replying".lstrip(
                " ·")
        departments = {k: d.name for k, d in settings.routing.departments.items()}
        ticket["channel_label"] = channels.label(ticket["channel"])
        return blocks.ticket_card(ticket, customer, departments, mention, supplier_name,
                                  [(m.name, m.title) for m in settings.macros])

    def _transcript(self, ticket_id: int) -> str:
        with self.db.read() as conn:
            ticket = queries.get_ticket(conn, self.settings.tickets.ref_prefix, ticket_id)
        return blocks.transcript(ticket["messages"] if ticket else [])
