"""The bot's turn, between deciding the ticket and writing the message.

On a new ticket from a channel the bot serves (`bot.channels`), a question it can answer with
confidence — from the knowledge base, or an order's status for that order's own customer —
is answered at once: the ticket becomes `bot_answered` (no clock, no round-robin, a compact
line in Slack instead of a card). Anything else goes to people as before, with the reason
journaled. On a ticket the bot answered, the customer's next message either gets another
answer, or hands the ticket to people: when they ask for a person, say it did not help,
complain, or ask what the bot cannot answer. A plain "thanks" changes nothing. Once people
have a ticket the bot never speaks on it again (switchboard/ticket_rules/bot_state.py).

The decision itself is router.bot.decide (pure); this stage gathers what it needs from the
store (the writer's orders and where they are) and renders what the customer is told."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from router import Classification, Prepared
from router.bot import (
    BotDecision,
    OrderStatus,
    asks_order_status,
    code_candidates,
    decide,
    split_codes,
)
from router.language import detect_language
from switchboard.pipeline.context import Context
from switchboard.pipeline.identify import Customer, Sender
from switchboard.pipeline.outcome import Decision
from switchboard.ticket_rules import bot_state
from switchboard.timefmt import spoken, spoken_day
from tickets import catalog, store
from tickets.messages import Channel, InboundMessage
from tickets.refs import format_ref
from tickets.store import JournalEntry

OPEN_ORDER = frozenset({"placed", "confirmed", "shipping"})
RECENT = timedelta(days=60)  # "my order" means one of these, not last year's
_THANKS = frozenset({"cam", "on", "thanks", "thank", "you", "tks", "thanh", "kiu", "ok", "oke",
                     "okay", "okie", "vang", "da", "duoc", "roi", "a", "nhe", "nha", "shop",
                     "ad", "ban", "minh", "em", "anh", "chi", "nhieu", "hieu", "biet",
                     "great", "got", "it", "khong", "sao", "ạ"})


@dataclass(frozen=True, slots=True)
class BotTurn:
    """What the bot did with one message: `text` goes to the customer (an answer, the
    question "which order?", or the hand-over notice); `handover` is the reason when the
    ticket went to people just now."""
    decision: BotDecision | None
    text: str | None
    handover: str | None = None
    lang: str = "vi"


def turn(ctx: Context, conn: Connection, message: InboundMessage, who: Customer,
         sender: Sender, prepared: Prepared, result: Classification, decision: Decision,
         now: datetime) -> Decision:
    """The decision as the bot leaves it (the same object when the bot has no part)."""
    mode = ctx.settings.bot.mode(message.channel.value)
    if (ctx.knowledge is None or mode == "off" or message.is_history or not ctx.acknowledge
            or sender.supplier_id is not None or decision.action not in ("created", "joined")):
        return decision
    if message.channel is Channel.EMAIL and ctx.acknowledger.why_not_automatic(conn, message,
                                                                                now):
        return decision  # no automatic answer to this address now: people answer it
    head = store.get_head(conn, decision.ticket.id) if decision.action == "joined" else None
    if head is not None and head.bot_state != "answered":
        return decision  # people have it (or had it before the bot): the bot keeps quiet
    if head is not None and _just_thanks(prepared):
        return decision
    chosen = consult(ctx, conn, message.text, message.channel.value, who.bought, prepared,
                     result, mode)
    lang = _language(message)
    if chosen.action == "answer":
        return _answered(ctx, conn, message, decision, chosen, lang, now)
    reason = chosen.reason or "low_confidence"
    if head is None:  # a new ticket: people have it from the start, as ever (its bot_state
        entries = [*decision.entries, bot_state.declined(reason)]  # stays empty: no UPDATE)
        return dataclasses.replace(decision, entries=entries,
                                   bot=BotTurn(chosen, None, None, lang))
    entries = bot_state.hand_over(conn, ctx.sla, decision.ticket.id, reason, "bot", now)
    return dataclasses.replace(decision, entries=[*decision.entries, *entries],
                               bot=BotTurn(chosen, None, reason, lang))


def consult(ctx: Context, conn: Connection, text: str, channel: str,
            bought: Sequence[catalog.OrderRef], prepared: Prepared, result: Classification,
            mode: str) -> BotDecision:
    """The bot's decision for a text from a writer who placed `bought` (their orders, found
    by their phones and emails): what `switchboard answer` prints, too. A message a rule
    sends to a desk of its own (a personal-data request) is that desk's to act on."""
    if result.department:
        return BotDecision("handover", None, 1.0, "desk_request")
    mine = {o.code for o in bought}
    candidates = [*prepared.entities.order_codes, *code_candidates(text)]
    asked = bool(candidates) or asks_order_status(prepared.text)  # else no order to read
    found = catalog.tracked_orders(conn, [*candidates, *mine]) if asked else {}
    own, foreign = split_codes(text, held=found.keys(), own=mine)
    own += [c for c in prepared.entities.order_codes if c in mine and c in found]
    in_text = {c: _status(found[c]) for c in own}
    now = ctx.clock.now()
    own_open = [_status(o) for c, o in found.items() if c in mine and c not in in_text
                and o.tracking.status in OPEN_ORDER
                and (o.tracking.status_at is None or now - o.tracking.status_at < RECENT)]
    assert ctx.knowledge is not None
    return decide(prepared, result, ctx.knowledge.current(), channel=channel,
                  mode=mode, orders_in_text=in_text, foreign_codes=foreign,
                  own_open_orders=sorted(own_open, key=lambda o: o.code),
                  threshold=ctx.settings.bot.threshold)


def _status(order: catalog.TrackedOrder) -> OrderStatus:
    t = order.tracking
    return OrderStatus(order.code, order.supplier_id, order.product, t.status, t.status_at,
                       t.carrier, t.tracking_code, t.expected_at)


def _answered(ctx: Context, conn: Connection, message: InboundMessage, decision: Decision,
              chosen: BotDecision, lang: str, now: datetime) -> Decision:
    text = render(ctx, chosen, lang)
    entries = [e for e in decision.entries if e.action != "sla"]  # no human clock runs
    if decision.action == "created":
        store.update_ticket(conn, decision.ticket.id, bot_state.answered(now))
    return dataclasses.replace(decision, entries=entries, bot=BotTurn(chosen, text, None, lang))


def render(ctx: Context, chosen: BotDecision, lang: str) -> str:
    """What the customer reads: the knowledge answer (English when they wrote English and
    the entry has it), the order's status, or the question which order they mean."""
    templates, zone = ctx.acknowledger.templates, ctx.settings.zone
    if chosen.kind == "faq" and chosen.entry is not None:
        return (chosen.entry.answer_en if lang == "en" and chosen.entry.answer_en
                else chosen.entry.answer)
    if chosen.order is not None:
        o = chosen.order
        return templates.text(
            "chat/bot_order", lang, code=o.code, product=o.product, status=o.status,
            status_at=spoken(o.status_at, zone, lang) if o.status_at else None,
            carrier=o.carrier, tracking_code=o.tracking_code,
            expected_at=spoken_day(o.expected_at, zone, lang) if o.expected_at else None)
    return templates.text("chat/bot_which", lang, codes=list(chosen.choices))


def handover_text(ctx: Context, ticket_id: int, department: str, lang: str,
                  opens_at: datetime | None) -> str:
    departments = ctx.settings.routing.departments
    return ctx.acknowledger.templates.text(
        "chat/handover", lang, ref=format_ref(ctx.prefix, ticket_id),
        department=departments[department].name if department in departments else department,
        **ctx.acknowledger.opening(opens_at))


def _language(message: InboundMessage) -> str:
    return language_of(message.text, message.meta.get("language", ""))


def language_of(text: str, declared: str = "") -> str:
    """The language the bot answers in: the platform's word for it, else the text's."""
    lang = declared[:2] or detect_language(text)
    return lang if lang in ("vi", "en") else "vi"


def _just_thanks(prepared: Prepared) -> bool:
    """"Cảm ơn shop", "ok ạ", "thanks!": an answer that needs none and hands nothing over."""
    tokens: Sequence[str] = prepared.text.tokens
    return 0 < len(tokens) <= 8 and set(tokens) <= _THANKS and not prepared.question


def journal_of(turn_: BotTurn, outbox_id: int | None) -> JournalEntry:
    d = turn_.decision
    assert d is not None
    what = (f"knowledge entry {d.faq_id}" if d.kind == "faq" else
            f"the status of order {d.order_code}" if d.order_code else "which order they mean")
    return JournalEntry("bot_answered", f"the bot answered with {what} "
                        f"(confidence {d.confidence:.2f})", actor="bot",
                        data={"kind": d.kind, "faq_id": d.faq_id, "order_code": d.order_code,
                              "confidence": round(d.confidence, 3), "outbox_id": outbox_id,
                              "language": turn_.lang})
