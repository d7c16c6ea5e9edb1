"""`/customer <phone or email>`, `/search <words>`, `/merge <ticket> <into>`, `/macro
<name> <ticket>` and `/faq <words>` in Slack.

`/search` answers ephemerally with the first tickets the API's `q` finds (same search:
diacritics optional, a phone, an email or an order code; limited to the agent's
departments). `/merge MC-12 MC-9` merges MC-12 into MC-9 as `POST /api/tickets/MC-12/merge`
does, journaled under the agent's name; a retried command merges once (the command's
trigger id is remembered like every Slack action's)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from switchboard.desk import macros, merge, privacy
from switchboard.desk.actions import ActionRefused
from switchboard.desk.slack_organise import in_departments
from switchboard.outbox.saved_replies import SavedReplies
from switchboard.settings import AgentSettings, Settings
from switchboard.ticket_rules.knowledge_file import KnowledgeFile
from tickets import queries
from tickets.clock import Clock
from tickets.customers import Tier
from tickets.database import Database
from tickets.identities import normalize_email, normalize_phone
from tickets.refs import parse_ref

SEARCH_USAGE = "Cách dùng / usage: `/search <từ khóa, số điện thoại, email hoặc mã đơn>`"
MACRO_USAGE = ("Cách dùng / usage: `/macro <tên> <mã phiếu>`, ví dụ / e.g. "
               "`/macro late_delivery MC-12`")
MERGE_USAGE = ("Cách dùng / usage: `/merge <phiếu gộp> <vào phiếu>`, ví dụ / e.g. "
               "`/merge MC-12 MC-9` (MC-12 vào / into MC-9)")
FAQ_USAGE = "Cách dùng / usage: `/faq <câu hỏi của khách>` — tìm trong kho trả lời của bot"
FirstTime = Callable[[Any, str, datetime], bool]


class SlackCommands:
    def __init__(self, settings: Settings, db: Database, clock: Clock,
                 first_time: FirstTime, wake: Callable[[], None], secret: bytes = b"",
                 replies: SavedReplies | None = None,
                 knowledge: KnowledgeFile | None = None) -> None:
        self.settings, self.db, self.clock = settings, db, clock
        self.secret, self.replies = secret, replies  # for a macro's saved replies
        self.first_time = first_time  # Slack retries: act once per trigger
        self.wake = wake
        self.knowledge = knowledge  # the bot's, for /faq

    def handlers(self) -> dict[str, Callable[[AgentSettings, dict[str, Any]], Awaitable[str]]]:
        return {"/customer": self.customer, "/search": self.search, "/merge": self.merge,
                "/macro": self.macro, "/faq": self.faq}

    async def faq(self, agent: AgentSettings, body: dict[str, Any]) -> str:
        """`/faq <words>`: the knowledge entries that answer them best, to copy from."""
        words = str(body.get("text") or "").strip()[:500]
        if not words:
            return FAQ_USAGE
        if self.knowledge is None:
            return "Bot và kho trả lời đang tắt / the bot's knowledge base is off (bot.enabled)"
        hits = self.knowledge.current().search(self.knowledge.normalizer(words), None, 3)
        if not hits:
            return f"Không có mục nào khớp / no knowledge entry matches “{words}”"
        return "\n\n".join(f"💡 *{h.entry.id}* ({h.confidence:.0%})\n{h.entry.answer[:900]}"
                            for h in hits)

    async def customer(self, agent: AgentSettings, body: dict[str, Any]) -> str:
        """`/customer <phone or email>`: the profile (recorded in the personal-data log)."""
        contact = str(body.get("text") or "").strip()
        phone = normalize_phone(contact)
        email = None if phone else normalize_email(contact)
        if not (phone or email):
            return "Cách dùng / usage: `/customer <số điện thoại hoặc email>`"
        return await asyncio.to_thread(self._profile, "phone" if phone else "email",
                                       str(phone or email), agent.name)

    def _profile(self, kind: str, value: str, agent: str) -> str:
        prefix = self.settings.tickets.ref_prefix
        tiers = [Tier(t.name, t.min_spend) for t in self.settings.customers.tiers]
        with self.db.read() as conn:
            customer_id = queries.customer_by_identity(conn, kind, value)
            profile = None if customer_id is None else queries.customer_profile(
                conn, prefix, customer_id, tiers, self.clock.now())
        if profile is None:
            return f"Không có khách nào với {value} / no customer with {value}"
        privacy.record(self.db, agent, "slack", "profile", customer_id, self.clock.now())
        ids = ", ".join(i["value"] for i in profile["identities"])
        open_ = [t for t in profile["tickets"] if t["status"] not in ("resolved", "closed")]
        lines = [f"👤 *{profile['name'] or value}* · "
                 f"{'khách quen / returning' if profile['returning'] else 'khách mới / new'}"
                 f" · hạng / tier {profile['tier']} · {ids}",
                 f"Đơn hàng / orders: {len(profile['orders'])}; phiếu / tickets: "
                 f"{len(profile['tickets'])}, đang mở / open: {len(open_)}"]
        lines += [f"• {t['ref']} {t['status']} {t['category']} — {t['subject'] or ''}"
                  for t in open_[:10]]
        return "\n".join(lines)

    async def macro(self, agent: AgentSettings, body: dict[str, Any]) -> str:
        words = str(body.get("text") or "").split()
        refs = [w for w in words if parse_ref(w.lstrip("#")) is not None and not w.isdigit()]
        names = [w for w in words if w not in refs]
        if len(refs) != 1 or len(names) != 1:
            known = ", ".join(f"`{m.name}` ({m.title})" for m in self.settings.macros)
            return f"{MACRO_USAGE}\n{known or 'no macros are configured'}"
        ticket_id = parse_ref(refs[0].lstrip("#"))
        assert ticket_id is not None
        key = f"macro:{body.get('trigger_id') or f'{names[0]}:{ticket_id}'}"
        return await asyncio.to_thread(self._macro, agent, ticket_id, names[0], key)

    def _macro(self, agent: AgentSettings, ticket_id: int, name: str, key: str) -> str:
        try:
            with self.db.write() as conn:
                if not self.first_time(conn, key, self.clock.now()):
                    return "Đã làm / already done"
                if not in_departments(conn, agent, ticket_id):
                    raise macros.MacroRefused(f"no ticket {ticket_id} in your departments")
                done = macros.run(conn, self.settings, self.secret, self.replies, ticket_id,
                                  name, agent.name, self.clock.now())
        except macros.MacroRefused as exc:
            return f"Không chạy được / not run (nothing changed): {exc}"
        self.wake()
        return f"⚙️ {name}: " + "; ".join(done)

    async def search(self, agent: AgentSettings, body: dict[str, Any]) -> str:
        words = str(body.get("text") or "").strip()
        if not words:
            return SEARCH_USAGE
        return await asyncio.to_thread(self._search, agent, words[:200])

    def _search(self, agent: AgentSettings, words: str) -> str:
        prefix = self.settings.tickets.ref_prefix
        f = queries.TicketFilter(text=words, departments=tuple(agent.departments))
        with self.db.read() as conn:
            page = queries.ticket_page(conn, prefix, f, limit=10)
        if not page.items:
            return f"Không tìm thấy phiếu nào / no ticket matches “{words}”"
        zone = self.settings.zone
        lines = [f"🔎 “{words}”: {page.total}{'+' if page.more else ''} phiếu / tickets"]
        lines += [f"• *{t['ref']}* {t['status']} · {t['channel']} · {t['category']} · "
                  f"{t['created_at'].astimezone(zone):%d/%m %H:%M} — "
                  f"{(t['subject'] or '')[:80]}" for t in page.items]
        return "\n".join(lines)

    async def merge(self, agent: AgentSettings, body: dict[str, Any]) -> str:
        words = str(body.get("text") or "").replace(",", " ").split()
        ids = [parse_ref(w.lstrip("#")) for w in words if w.lower() not in ("into", "vào")]
        if len(ids) != 2 or None in ids:
            return MERGE_USAGE
        source, target = ids
        assert source is not None and target is not None
        key = f"merge:{body.get('trigger_id') or f'{source}:{target}'}"
        return await asyncio.to_thread(self._merge, agent, source, target, key)

    def _merge(self, agent: AgentSettings, source: int, target: int, key: str) -> str:
        now = self.clock.now()
        try:
            with self.db.write() as conn:
                if not self.first_time(conn, key, now):
                    return "Đã làm / already done"
                for ticket_id in (source, target):
                    if not in_departments(conn, agent, ticket_id):
                        raise ActionRefused(f"no ticket {ticket_id} in your departments")
                done = merge.merge(conn, self.settings, source, target, agent.name, now)
        except ActionRefused as exc:
            return f"Không gộp được / not merged: {exc}"
        self.wake()
        return f"🔀 {done.summary}"

