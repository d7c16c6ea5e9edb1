"""What agents do from Slack, turned into ticket changes.

Only Slack users mapped to agents in `agents:` may act (DESIGN invariant 7); anyone else
gets an ephemeral refusal and nothing changes. Every event, action, modal and command is
recorded by its own key in `slack_events` in the same transaction as its effect, so a retry
from Slack is a no-op (invariant 2). Whatever must reach Slack or the customer afterwards is
written to the outbox in that transaction too.

Internal notes must be easy and hard to leak: in a department whose `thread_messages` is
`internal` (the default), plain thread messages are notes and only the "Reply to customer"
button answers the customer; where it is `customer`, plain thread messages are answers
unless they start with `note:` / `ghi chú:`. Every message that went to the customer gets
📤 on it at once and a ✅ line in the thread when delivered (⚠️ with the reason when not).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Connection, select

from connectors.slack import blocks
from switchboard import channels
from switchboard.desk import actions as desk
from switchboard.desk import (
    answer,
    macros,
    presence,
    slack_cards,
    slack_commands,
    slack_organise,
    slack_saved,
    supplier_actions,
)
from switchboard.desk.once import first_time as _first_time
from switchboard.outbox.compose import CannotReply
from switchboard.settings import AgentSettings, Settings
from switchboard.ticket_rules.knowledge_file import KnowledgeFile
from switchboard.ticket_rules.sla_keeper import keeper_for
from tickets import store
from tickets.clock import Clock
from tickets.database import Database
from tickets.identities import normalize_email, normalize_phone
from tickets.messages import Channel, InboundMessage
from tickets.refs import format_ref
from tickets.schema import slack_events, slack_posts, tickets
from tickets.store import JournalEntry

log = logging.getLogger("switchboard.slack")
NOTE_PREFIXES = ("note:", "ghi chú:", "ghi chu:", "nb:")
SUPPLIER_PREFIXES = ("ncc:", "supplier:")  # to the supplier's portal and mailbox
NOT_AGENT = ("Bạn chưa được cấu hình là nhân viên hỗ trợ nên không thể thao tác trên phiếu. / "
             "You are not a configured agent, so you cannot act on tickets.")

Deliver = Callable[[InboundMessage], Any]


class SlackDesk:
    def __init__(self, settings: Settings, db: Database, clock: Clock, secret: bytes,
                 client: AsyncWebClient, deliver: Deliver,
                 wake: Callable[[], None] = lambda: None,
                 replies: slack_saved.Library | None = None,
                 split: slack_organise.Split | None = None,
                 split_refused: tuple[type[Exception], ...] = (),
                 knowledge: KnowledgeFile | None = None) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.secret = secret
        self.client = client
        self.deliver = deliver  # into the durable inbox (slash-command calls)
        self.wake = wake  # the outbox dispatcher, after something was queued
        self.agents = {a.slack_user: a for a in settings.agents if a.slack_user}
        self.knowledge = knowledge  # the bot's: the reply form's suggestions, /faq
        self.saved = slack_saved.SlackSavedReplies(self, replies)  # reply form menu, /reply
        self.organise = slack_organise.SlackOrganise(settings, db, clock, client,
                                                     lambda: self.wake(), split, split_refused)
        self.organise_submitted = self.organise.submitted  # the form behind sb_organise
        self.more = {"/reply": self.saved.command, **slack_commands.SlackCommands(settings, db,
            clock, _first_time, lambda: self.wake(), secret, self.saved.replies,
            knowledge).handlers()}

    # -- who may act ---------------------------------------------------------------------

    def agent(self, user: str | None) -> AgentSettings | None:
        return self.agents.get(user or "")

    async def _ephemeral(self, channel: str, user: str, text: str,
                         thread_ts: str | None = None) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text,
                                                 thread_ts=thread_ts)
        except SlackApiError as exc:  # a courtesy: never fail the request for it
            log.warning("ephemeral message to %s not shown: %s", user, exc.response.get("error"))

    # -- thread messages -----------------------------------------------------------------

    async def thread_message(self, event: dict[str, Any], event_id: str) -> None:
        user, channel = str(event.get("user") or ""), str(event.get("channel") or "")
        thread_ts, ts = str(event.get("thread_ts")), str(event.get("ts"))
        text = str(event.get("text") or "").strip()
        agent = self.agent(user)
        result = await asyncio.to_thread(self._thread_message, agent, channel, thread_ts, ts,
                                         text, event_id or f"msg:{channel}:{ts}")
        if result is None:
            return
        kind, detail = result
        if kind == "refused":
            await self._ephemeral(channel, user, detail, thread_ts)
        elif kind == "sent":
            self.wake()
            try:
                await self.client.reactions_add(channel=channel, timestamp=ts,
                                                name="outbox_tray")
            except SlackApiError as exc:
                log.info("could not mark %s as sent: %s", ts, exc.response.get("error"))
        elif kind == "note":
            self.wake()

    def _thread_message(self, agent: AgentSettings | None, channel: str, thread_ts: str,
                        ts: str, text: str, key: str) -> tuple[str, str] | None:
        now = self.clock.now()
        with self.db.write() as conn:
            ticket_id = conn.execute(select(slack_posts.c.ticket_id).where(
                slack_posts.c.channel == channel, slack_posts.c.ts == thread_ts)).scalar()
            if ticket_id is None:
                log.info("a thread reply in %s on %s, which is not a ticket: ignored",
                         channel, thread_ts)
                return None
            if agent is None:
                return ("refused", NOT_AGENT + " Tin nhắn này không được gửi cho khách. / "
                        "This message was not sent to the customer.")
            if not _first_time(conn, key, now):
                return None
            department = conn.execute(select(tickets.c.department).where(
                tickets.c.id == ticket_id)).scalar()
            known = self.settings.routing.departments.get(str(department))
            to_customer = known is not None and known.thread_messages == "customer"
            lowered = text.lower()
            if lowered.startswith(SUPPLIER_PREFIXES):
                body = text.split(":", 1)[1].strip()
                try:
                    supplier_actions.tell_supplier(conn, self.settings, ticket_id, agent.name,
                                                body, now)
                except desk.ActionRefused as exc:
                    return ("refused", f"Không gửi được cho NCC / not sent to the supplier: "
                            f"{exc}")
                _first_time(conn, f"sent:{channel}:{ts}", now)
                return ("sent", "")
            if not to_customer or lowered.startswith(NOTE_PREFIXES):
                store.append_journal(conn, ticket_id, now, [JournalEntry(
                    "note", text[:4000], actor=agent.name)])
                return ("note", "")
            try:
                self._reply(conn, ticket_id, agent, text, now)
            except CannotReply as exc:
                return ("refused", f"Không gửi được cho khách / not sent to the customer: "
                        f"{exc}")
            _first_time(conn, f"sent:{channel}:{ts}", now)
            return ("sent", "")

    def _reply(self, conn: Connection, ticket_id: int, agent: AgentSettings, text: str,
               now: datetime, saved: str | None = None, echo: bool = False) -> None:
        answer.send(conn, self.settings, self.secret, ticket_id, agent.name, now, text=text,
                    saved=saved, via=" from Slack", echo=echo)
        store.update_ticket(conn, ticket_id, {"updated_at": now})

    async def message_changed(self, event: dict[str, Any]) -> None:
        """Edits and deletions cannot recall what the customer already received: say so to
        the agent instead of pretending."""
        previous = event.get("previous_message") or {}
        ts = str(previous.get("ts") or event.get("deleted_ts") or "")
        channel = str(event.get("channel") or "")
        user = str(previous.get("user") or "")
        if not ts or not user or (event.get("message") or {}).get("bot_id"):
            return
        sent = await asyncio.to_thread(self._was_sent, channel, ts)
        if sent:
            await self._ephemeral(channel, user, "Khách đã nhận bản gốc; sửa hoặc xoá trong "
                                  "Slack không thay đổi được. / The customer already has the "
                                  "original; editing or deleting it in Slack does not change "
                                  "that.", str(previous.get("thread_ts") or ts))

    def _was_sent(self, channel: str, ts: str) -> bool:
        with self.db.read() as conn:
            return conn.execute(select(slack_events.c.key).where(
                slack_events.c.key == f"sent:{channel}:{ts}")).first() is not None

    # -- buttons and menus ---------------------------------------------------------------

    async def action(self, body: dict[str, Any]) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or
                      (body.get("container") or {}).get("channel_id") or "")
        action = (body.get("actions") or [{}])[0]
        action_id = str(action.get("action_id"))
        if action_id == "sb_saved_pick":  # the reply form's menu: fills the form in
            await self.saved.picked(body)
            return
        value = str(action.get("value") or (action.get("selected_option") or {}).get("value")
                    or "")
        agent = self.agent(user)
        if agent is None:
            await self._ephemeral(channel, user, NOT_AGENT)
            return
        ticket_text, _, choice = value.partition(":")
        if not ticket_text.isdigit():
            await self._ephemeral(channel, user, f"Nút không hợp lệ / bad button value {value!r}")
            return
        ticket_id = int(ticket_text)
        if action_id == "sb_reply":
            await self._open_reply(body, ticket_id, channel, user)
            return
        if action_id == "sb_organise":  # the Merge · Split · Link form
            return await self.organise.open(body, ticket_id, channel, user, self._ephemeral)
        key = f"action:{action.get('action_ts') or body.get('trigger_id')}:{user}"
        outcome = await asyncio.to_thread(self._act, agent, action_id, ticket_id, choice, key)
        if outcome:
            await self._ephemeral(channel, user, outcome)
        else:
            self.wake()

    def _act(self, agent: AgentSettings, action_id: str, ticket_id: int, choice: str,
             key: str) -> str | None:
        """Do it; None on success, else the reason to show."""
        now, settings = self.clock.now(), self.settings
        with self.db.write() as conn:
            if not _first_time(conn, key, now):
                return None
            try:
                if action_id == "sb_assign_me":
                    done = desk.assign(conn, ticket_id, agent.name, agent.name, now)
                elif action_id == "sb_supplier":
                    done = desk.hand_to_supplier(conn, settings, ticket_id, agent.name, now)
                elif action_id == "sb_resolve":
                    done = desk.resolve(conn, settings, ticket_id, agent.name, now,
                                        self.secret)
                elif action_id == "sb_reopen":
                    done = desk.reopen(conn, settings, ticket_id, agent.name, now)
                elif action_id == "sb_priority":
                    done = desk.set_priority(conn, ticket_id, choice, agent.name, now)
                elif action_id == "sb_transfer":
                    done = desk.transfer(conn, settings, ticket_id, choice, agent.name, now)
                elif action_id == "sb_status":
                    done = desk.set_status(conn, settings, ticket_id, choice, agent.name, now)
                elif action_id == "sb_macro":
                    done = macros.as_action(conn, settings, self.secret, self.saved.replies,
                                            ticket_id, choice, agent.name, now)
                elif action_id == "sb_ack":
                    if agent.role != "manager":
                        return "Chỉ quản lý mới xác nhận được / only managers acknowledge"
                    if not keeper_for(settings).acknowledge(conn, ticket_id, agent.name, now):
                        return "đã được xác nhận / already acknowledged"
                    store.append_journal(conn, ticket_id, now, [JournalEntry(
                        "sla_acknowledged", f"{agent.name} acknowledged the late ticket: no "
                        "more reminders while they handle it", actor=agent.name)])
                    done = desk.Done(ticket_id, "acknowledged the late ticket")
                elif action_id == "sb_proposal":
                    verdict, _, number = choice.partition("-")
                    if verdict not in ("approve", "reject") or not number.isdigit():
                        return f"bad proposal button {choice!r}"
                    done = supplier_actions.decide(conn, settings, ticket_id, int(number),
                                                verdict == "approve", agent.name, now)
                elif action_id == "sb_category":
                    category, _, topic = choice.partition("/")
                    done = desk.reclassify(conn, settings, ticket_id, category, topic or None,
                                           agent.name, now)
                else:
                    return f"unknown action {action_id}"
            except desk.ActionRefused as exc:
                return f"{format_ref(settings.tickets.ref_prefix, ticket_id)}: {exc}"
            head = store.get_head(conn, ticket_id)
            assert head is not None
            if done.moved_from is not None:
                slack_cards.move_card(conn, settings, ticket_id, head.category,
                                       head.department, f"{agent.name}: {done.summary}", now)
            else:
                slack_cards.refresh_card(conn, settings, ticket_id, now)
            slack_cards.to_thread(conn, settings, ticket_id,
                                   f"🛠 {agent.name}: {done.summary}", now)
        return None

    async def _open_reply(self, body: dict[str, Any], ticket_id: int, channel: str,
                          user: str) -> None:
        with self.db.write() as conn:  # the agent now holds it: the card says so
            found = conn.execute(select(tickets.c.channel).where(
                tickets.c.id == ticket_id)).scalar()
            agent = self.agent(user)
            if found is not None and agent is not None:
                presence.claim(conn, ticket_id, agent.name, self.clock.now())
                slack_cards.refresh_card(conn, self.settings, ticket_id, self.clock.now())
        if found is None:
            await self._ephemeral(channel, user, "Phiếu này không còn / this ticket no longer "
                                  "exists")
            return
        ref = format_ref(self.settings.tickets.ref_prefix, ticket_id)
        try:
            await self.client.views_open(trigger_id=str(body.get("trigger_id")),
                                         view=blocks.reply_modal(str(ticket_id), ref,
                                                                 channels.label(found),
                                                                 self.saved.options(ticket_id)))
        except SlackApiError as exc:
            await self._ephemeral(channel, user, f"Không mở được / could not open the reply "
                                  f"form: {exc.response.get('error')}")

    async def reply_submitted(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The "Reply to customer" form; errors (shown in the form) or None."""
        user = str((body.get("user") or {}).get("id") or "")
        agent = self.agent(user)
        view = body.get("view") or {}
        if agent is None:
            return {"reply": NOT_AGENT}
        text, block, saved, errors = await asyncio.to_thread(self.saved.form, agent, view)
        if errors:
            return errors
        ticket_text = str(view.get("private_metadata") or "")
        if not ticket_text.isdigit():
            return {block: "Phiếu không rõ / unknown ticket"}
        key = f"view:{view.get('id')}:{view.get('hash')}"
        warning = await asyncio.to_thread(self._someone_else, agent, int(ticket_text), view)
        if warning:
            return {block: warning}
        error = await asyncio.to_thread(self._submit_reply, agent, int(ticket_text), text, key,
                                        saved)
        if error:
            return {block: error}
        self.wake()
        return None

    def _someone_else(self, agent: AgentSettings, ticket_id: int, view: dict[str, Any]
                      ) -> str | None:
        """A warning, once per form, when another agent is answering the ticket now."""
        now = self.clock.now()
        with self.db.write() as conn:
            other = presence.other_holder(conn, ticket_id, agent.name, now)
            if other is None or not _first_time(conn, f"warned:{view.get('id')}", now):
                return None
        since = other[1].astimezone(self.settings.zone)
        return (f"⚠️ {other[0]} đang trả lời phiếu này (từ {since:%H:%M}); bấm Gửi lần nữa "
                f"để vẫn gửi / {other[0]} is replying since {since:%H:%M}: send again to "
                "send anyway")

    def _submit_reply(self, agent: AgentSettings, ticket_id: int, text: str,
                      key: str, saved: str | None = None) -> str | None:
        now = self.clock.now()
        with self.db.write() as conn:
            if store.get_head(conn, ticket_id) is None:
                return "Phiếu này không còn / this ticket no longer exists"
            if not _first_time(conn, key, now):
                return None
            try:
                self._reply(conn, ticket_id, agent, text, now, saved, echo=True)
            except CannotReply as exc:
                return str(exc)[:150]
            presence.release(conn, ticket_id, agent.name)
        return None

    # -- slash commands ------------------------------------------------------------------

    async def command(self, name: str, body: dict[str, Any]) -> str:
        agent = self.agent(str(body.get("user_id") or ""))
        if agent is None:
            return NOT_AGENT
        if name in self.more:  # /reply (slack_saved); /customer, /search, /merge, /macro
            return await self.more[name](agent, body)
        text = str(body.get("text") or "").strip()
        contact, summary = _split_contact(text)
        phone = normalize_phone(contact)
        email = None if phone else normalize_email(contact)
        if not (phone or email) or not summary.strip():
            return ("Cách dùng / usage: `/ticket <số điện thoại hoặc email> <tóm tắt cuộc gọi>` "
                    "— ghi cuộc gọi hotline thành phiếu / logs a hotline call as a ticket")
        key = f"slack:{body.get('trigger_id') or body.get('team_id')}"
        message = InboundMessage(Channel.PHONE, key, str(phone or email), summary.strip(),
                                 self.clock.now(), meta={"direction": "inbound",
                                                         "agent": agent.name})
        await self.deliver(message)
        return (f"Đã ghi cuộc gọi của {phone or email}; phiếu sẽ hiện trong kênh của bộ phận. / "
                f"Call from {phone or email} logged; its ticket will appear in its department's "
                "channel.")


_LEADING_PHONE = re.compile(r"^(\+?[\d(][\d\s().-]{6,22}\d)(?:\s+|$)(.*)$", re.DOTALL)


def _split_contact(text: str) -> tuple[str, str]:
    """`0912 345 678 khách báo ...` → the number (spaces and all) and the rest; else the
    first word (an email) and the rest."""
    match = _LEADING_PHONE.match(text)
    if match and normalize_phone(match.group(1)):
        return match.group(1), match.group(2)
    contact, _, rest = text.partition(" ")
    return contact, rest
