"""Saved replies in Slack: the *Saved reply* menu of the *Reply to customer* form and the
`/reply` command (the texts and their variables: `switchboard.outbox.saved_replies`).

* **The menu fills the form.** Picking a saved reply puts it, filled in for the ticket in
  the customer's language, into the message box (the form is updated in place); the agent
  reads it, may edit it, and *Send* sends what the box holds — so typed text always wins.
  A box left empty with a saved reply chosen sends the saved reply as it is. A reply that
  cannot be filled in (a variable the ticket lacks, an unknown code) fills nothing and says
  why in the form; nothing half-filled can be sent.
* **`/reply <code> <ticket>`** (`/reply refund_time MC-12`, either order) sends the saved
  reply at once and answers ephemerally with what was sent, or why nothing was. A slash
  command does not know the thread it was typed in, hence the ticket reference; `/reply`
  alone lists the codes.

Sending goes through the desk's own reply path (`SlackDesk._submit_reply`): the same
journal line (with the code), 📤 line in the thread and first-response bookkeeping as a
typed answer, de-duplicated by the form's or the command's id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from connectors.slack import blocks
from router.knowledge import Hit
from router.language import detect_language
from switchboard import channels
from switchboard.desk.saved_reply import NoSuchTicket, render_for_ticket
from switchboard.outbox.saved_replies import Rendered, ReplyError, SavedReplies, library_for
from switchboard.settings import AgentSettings, Settings
from switchboard.ticket_rules.knowledge_file import KnowledgeFile
from tickets.clock import Clock
from tickets.database import Database
from tickets.refs import format_ref, parse_ref
from tickets.schema import messages, tickets

log = logging.getLogger("switchboard.slack")
USAGE = ("Cách dùng / usage: `/reply <mã mẫu> <mã phiếu>`, ví dụ / e.g. "
         "`/reply refund_time MC-12`")


Library = SavedReplies
KB = "kb:"  # menu values of knowledge answers, beside saved replies' codes


class Desk(Protocol):
    """What of `SlackDesk` the saved replies use."""

    settings: Settings
    db: Database
    clock: Clock
    client: AsyncWebClient
    wake: Callable[[], None]

    def agent(self, user: str | None) -> AgentSettings | None: ...

    def _submit_reply(self, agent: AgentSettings, ticket_id: int, text: str, key: str,
                      saved: str | None = None) -> str | None: ...


class SlackSavedReplies:
    def __init__(self, desk: Desk, replies: SavedReplies | None = None) -> None:
        self.desk = desk
        self.replies = replies or library_for(desk.settings.templates_dir)

    def options(self, ticket_id: int | None = None) -> list[tuple[str, str]]:
        """The menu: the three knowledge answers that fit the ticket best (`kb:<id>`, as
        starting points), then the saved replies."""
        hits = [] if ticket_id is None else self._knowledge_hits(ticket_id)
        return [*((f"{KB}{h.entry.id}", f"💡 {h.entry.id} ({h.confidence:.0%})")
                  for h in hits), *((r.code, r.title) for r in self.replies.all())]

    def _knowledge_hits(self, ticket_id: int) -> list[Hit]:
        knowledge: KnowledgeFile | None = getattr(self.desk, "knowledge", None)
        if knowledge is None:
            return []
        with self.desk.db.read() as conn:
            first = conn.execute(select(messages.c.subject, messages.c.text).where(
                messages.c.ticket_id == ticket_id, messages.c.direction == "in")
                .order_by(messages.c.id).limit(1)).first()
        if first is None:
            return []
        text = f"{first.subject or ''}\n{first.text}"
        return knowledge.current().search(knowledge.normalizer(text), None, 3)

    def _render(self, ticket_id: int, code: str, agent: AgentSettings) -> Rendered:
        desk = self.desk
        if code.startswith(KB):
            return self._knowledge_answer(ticket_id, code)
        with desk.db.read() as conn:
            return render_for_ticket(conn, desk.settings, self.replies, ticket_id, code,
                                     agent.name, desk.clock.now())

    def _knowledge_answer(self, ticket_id: int, code: str) -> Rendered:
        """A knowledge entry's answer as a starting point, in the ticket's language."""
        knowledge: KnowledgeFile | None = getattr(self.desk, "knowledge", None)
        entry = None if knowledge is None else next(
            (e for e in knowledge.current().entries if e.id == code[len(KB):]), None)
        if entry is None:
            raise ReplyError(f"no knowledge entry {code[len(KB):]!r}")
        with self.desk.db.read() as conn:
            first = conn.execute(select(messages.c.text).where(
                messages.c.ticket_id == ticket_id, messages.c.direction == "in")
                .order_by(messages.c.id).limit(1)).scalar()
        lang = detect_language(first or "")
        english = lang == "en" and entry.answer_en
        return Rendered(code, "en" if english else "vi",
                        entry.answer_en if english and entry.answer_en else entry.answer)

    def _why(self, exc: Exception) -> str:
        if isinstance(exc, NoSuchTicket):
            return f"Phiếu {exc} không còn / ticket {exc} no longer exists"
        return f"Không dùng được mẫu này / cannot use this saved reply: {exc}"

    # -- the form ------------------------------------------------------------------------

    async def picked(self, body: dict[str, Any]) -> None:
        """A saved reply chosen in the form: the form again, its message filled in."""
        agent = self.desk.agent(str((body.get("user") or {}).get("id") or ""))
        view = body.get("view") or {}
        ticket_text = str(view.get("private_metadata") or "")
        action = (body.get("actions") or [{}])[0]
        code = str((action.get("selected_option") or {}).get("value") or "")
        if agent is None or not ticket_text.isdigit() or not code:
            return
        ticket_id = int(ticket_text)
        try:
            rendered = await asyncio.to_thread(self._render, ticket_id, code, agent)
            text, note = rendered.text, ""
        except (ReplyError, NoSuchTicket) as exc:
            text, note = "", self._why(exc)
        with self.desk.db.read() as conn:
            channel = conn.execute(select(tickets.c.channel)
                                   .where(tickets.c.id == ticket_id)).scalar()
        ref = format_ref(self.desk.settings.tickets.ref_prefix, ticket_id)
        modal = blocks.reply_modal(
            ticket_text, ref, channels.label(str(channel)), self.options(ticket_id), text=text,
            chosen=code, note=note,
            # a new block shows the new text; without one Slack keeps what is in the box
            text_block=f"reply-{uuid.uuid4().hex[:8]}" if text else _text_block(view))
        try:
            await self.desk.client.views_update(view_id=str(view.get("id")),
                                                hash=view.get("hash"), view=modal)
        except SlackApiError as exc:  # e.g. hash_conflict: the form changed meanwhile
            log.info("reply form %s not filled: %s", view.get("id"), exc.response.get("error"))

    def form(self, agent: AgentSettings, view: dict[str, Any]
             ) -> tuple[str, str, str | None, dict[str, str]]:
        """(text to send, its block, saved code, errors to show in the form)."""
        values = (view.get("state") or {}).get("values") or {}
        block = _text_block(view)
        text = str(((values.get(block) or {}).get("text") or {}).get("value") or "").strip()
        chosen = (((values.get("saved") or {}).get("sb_saved_pick") or {})
                  .get("selected_option") or {}).get("value")
        code = str(chosen) if chosen else None
        if text:
            return text, block, code, {}
        ticket_text = str(view.get("private_metadata") or "")
        if not code or not ticket_text.isdigit():
            return "", block, None, {block: "Hãy nhập nội dung / write the answer"}
        try:
            return self._render(int(ticket_text), code, agent).text, block, code, {}
        except (ReplyError, NoSuchTicket) as exc:
            return "", block, code, {"saved": self._why(exc)[:150]}

    # -- /reply --------------------------------------------------------------------------

    async def command(self, agent: AgentSettings, body: dict[str, Any]) -> str:
        words = str(body.get("text") or "").split()
        if not words or words[0].lower() in ("list", "help", "?"):
            return self._listing()
        refs = [w for w in words if _ticket_word(w)]
        codes = [w.lower() for w in words if not _ticket_word(w)]  # typed: any case
        if len(refs) != 1 or len(codes) != 1:
            return USAGE
        ticket_id = parse_ref(refs[0].lstrip("#"))
        assert ticket_id is not None
        ref = format_ref(self.desk.settings.tickets.ref_prefix, ticket_id)
        try:
            rendered = await asyncio.to_thread(self._render, ticket_id, codes[0], agent)
        except (ReplyError, NoSuchTicket) as exc:
            return f"{ref}: {self._why(exc)}"
        key = f"reply:{body.get('trigger_id') or uuid.uuid4().hex}"
        error = await asyncio.to_thread(self.desk._submit_reply, agent, ticket_id,
                                        rendered.text, key, rendered.code)
        if error:
            return f"{ref}: Không gửi được cho khách / not sent to the customer: {error}"
        self.desk.wake()
        quoted = "\n".join(f"> {line}" for line in rendered.text.splitlines())
        return (f"📤 {ref}: đã gửi cho khách mẫu `{rendered.code}` ({rendered.lang}) / "
                f"sent to the customer:\n{quoted}")

    def _listing(self) -> str:
        replies = self.replies.all()
        if not replies:
            return "Chưa có trả lời mẫu nào / no saved replies are configured"
        lines = [f"• `{r.code}` — {r.title}" for r in replies]
        return "\n".join([USAGE, "Trả lời mẫu / saved replies:", *lines])


def _text_block(view: dict[str, Any]) -> str:
    """The message box's block: `reply`, or the one the last filling made."""
    shown = [str(b.get("block_id") or "") for b in view.get("blocks") or []]
    shown += list((view.get("state") or {}).get("values") or {})
    filled = [b for b in shown if b.startswith("reply-")]
    return filled[0] if filled else "reply"


def _ticket_word(word: str) -> bool:
    """`MC-12`, `#MC-12` or `12`: a ticket reference (codes start with a letter and carry
    no `-`)."""
    return parse_ref(word.lstrip("#")) is not None
