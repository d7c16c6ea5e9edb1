"""The card's *Merge · Split · Link* button: a form that merges the ticket into another,
links another as its parent, child or related ticket, or splits one of the customer's
messages out into a new ticket. The same operations as the API's (switchboard/desk/merge.py,
links.py, and the pipeline's split, passed in because the desk sits below the pipeline),
journaled under the agent, limited to the agent's departments; a resubmitted form acts
once. Errors come back in the form, next to the field at fault."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Connection, select

from connectors.slack import blocks
from switchboard.desk import links, merge, slack_cards
from switchboard.desk.actions import ActionRefused
from switchboard.desk.once import first_time
from switchboard.settings import AgentSettings, Settings
from tickets import store
from tickets.clock import Clock
from tickets.database import Database
from tickets.refs import format_ref, parse_ref
from tickets.schema import messages

Split = Callable[[Connection, int, str], int]  # (conn, message id, actor) → the new ticket
SNIPPET = 60


class SlackOrganise:
    def __init__(self, settings: Settings, db: Database, clock: Clock,
                 client: AsyncWebClient, wake: Callable[[], None],
                 split: Split | None = None,
                 refused: tuple[type[Exception], ...] = ()) -> None:
        """`refused`: the exceptions `split` raises to refuse (pipeline.split.SplitRefused)."""
        self.settings, self.db, self.clock, self.client = settings, db, clock, client
        self.wake = wake
        self.split = split
        self.refused: tuple[type[Exception], ...] = (ActionRefused, *refused)

    async def open(self, body: dict[str, Any], ticket_id: int, channel: str, user: str,
                   say: Callable[[str, str, str], Awaitable[None]]) -> None:
        """Open the form; `say` tells the agent (ephemerally) when it cannot be."""
        options = await asyncio.to_thread(self._messages, ticket_id)
        if options is None:
            await say(channel, user, "Phiếu này không còn / this ticket no longer exists")
            return
        ref = format_ref(self.settings.tickets.ref_prefix, ticket_id)
        try:
            await self.client.views_open(trigger_id=str(body.get("trigger_id")),
                                         view=blocks.organise_modal(str(ticket_id), ref,
                                                                    options))
        except SlackApiError as exc:
            await say(channel, user, "Không mở được / could not open the form: "
                      f"{exc.response.get('error')}")

    def _messages(self, ticket_id: int) -> list[tuple[str, str]] | None:
        """The customer's messages the form offers to split out (none when only one)."""
        zone = self.settings.zone
        with self.db.read() as conn:
            if store.get_head(conn, ticket_id) is None:
                return None
            rows = conn.execute(select(messages.c.id, messages.c.created_at,
                                       messages.c.text).where(
                messages.c.ticket_id == ticket_id, messages.c.direction == "in")
                .order_by(messages.c.id).limit(blocks.MAX_OPTIONS)).all()
        if self.split is None or len(rows) < 2:
            return []
        return [(str(r.id), f"{r.created_at.astimezone(zone):%d/%m %H:%M} "
                            f"{' '.join(str(r.text).split())[:SNIPPET]}") for r in rows]

    async def submitted(self, body: dict[str, Any]) -> dict[str, str] | None:
        """Do what the form asks; errors by block id, or None."""
        user = str((body.get("user") or {}).get("id") or "")
        agent = next((a for a in self.settings.agents if a.slack_user == user), None)
        if agent is None:
            return {"what": "Bạn chưa được cấu hình là nhân viên / you are not a configured "
                            "agent"}
        view = body.get("view") or {}
        ticket_text = str(view.get("private_metadata") or "")
        values = (view.get("state") or {}).get("values") or {}
        what = str((((values.get("what") or {}).get("what") or {}).get("selected_option")
                    or {}).get("value") or "")
        other_text = str(((values.get("other") or {}).get("ref") or {}).get("value") or "")
        message_text = str((((values.get("message") or {}).get("message") or {})
                            .get("selected_option") or {}).get("value") or "")
        if not ticket_text.isdigit() or what not in dict(blocks.ORGANISE_CHOICES):
            return {"what": "Chọn một việc / choose what to do"}
        key = f"organise:{view.get('id')}:{view.get('hash')}"
        if what == "split":
            if not message_text.isdigit():
                return {"message": "Chọn tin nhắn cần tách / choose the message to split out"}
            return await asyncio.to_thread(self._split, agent, int(ticket_text),
                                           int(message_text), key)
        other = parse_ref(other_text.strip().lstrip("#"))
        if other is None:
            return {"other": "Ghi mã phiếu, ví dụ MC-9 / give a ticket reference such as MC-9"}
        return await asyncio.to_thread(self._pair, agent, what, int(ticket_text), other, key)

    def _pair(self, agent: AgentSettings, what: str, ticket_id: int, other: int, key: str
              ) -> dict[str, str] | None:
        now, prefix = self.clock.now(), self.settings.tickets.ref_prefix
        try:
            with self.db.write() as conn:
                if not first_time(conn, key, now):
                    return None
                for t in (ticket_id, other):
                    if not in_departments(conn, agent, t):
                        raise ActionRefused(f"no ticket {format_ref(prefix, t)} in your "
                                            "departments")
                if what == "merge":
                    summary = merge.merge(conn, self.settings, ticket_id, other, agent.name,
                                          now).summary
                else:
                    links.link(conn, prefix, ticket_id, other, what, agent.name, now)
                    summary = (f"linked {format_ref(prefix, other)} as "
                               f"{format_ref(prefix, ticket_id)}'s {what}")
                for t in (ticket_id, other):
                    slack_cards.refresh_card(conn, self.settings, t, now)
                    slack_cards.to_thread(conn, self.settings, t,
                                          f"🛠 {agent.name}: {summary}", now)
        except ActionRefused as exc:
            return {"other": f"Không làm được / not done: {exc}"[:150]}
        self.wake()
        return None

    def _split(self, agent: AgentSettings, ticket_id: int, message_id: int, key: str
               ) -> dict[str, str] | None:
        now, prefix = self.clock.now(), self.settings.tickets.ref_prefix
        if self.split is None:
            return {"what": "Tách không dùng được ở đây / splitting is not available here"}
        try:
            with self.db.write() as conn:
                if not first_time(conn, key, now):
                    return None
                if not in_departments(conn, agent, ticket_id):
                    raise ActionRefused(f"no ticket {format_ref(prefix, ticket_id)} in your "
                                        "departments")
                owner = conn.execute(select(messages.c.ticket_id).where(
                    messages.c.id == message_id)).scalar()
                if owner != ticket_id:
                    raise ActionRefused(f"message {message_id} is no longer in "
                                        f"{format_ref(prefix, ticket_id)}")
                new_id = self.split(conn, message_id, agent.name)
                slack_cards.refresh_card(conn, self.settings, ticket_id, now)
                slack_cards.to_thread(conn, self.settings, ticket_id,
                                      f"🛠 {agent.name}: split message {message_id} out into "
                                      f"{format_ref(prefix, new_id)}", now)
        except self.refused as exc:
            return {"message": f"Không tách được / not split: {exc}"[:150]}
        self.wake()
        return None


def in_departments(conn: Connection, agent: AgentSettings, ticket_id: int) -> bool:
    """Agents act on their departments' tickets only (all, when they list none)."""
    head = store.get_head(conn, ticket_id)
    return head is not None and (not agent.departments or head.department in agent.departments)
