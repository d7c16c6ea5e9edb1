"""Erasing a person's personal data (Vietnam's Personal Data Protection Law, No. 91/2025/QH15),
and anonymising tickets whose retention time has passed.

Tickets stay, as anonymous rows: channel, category, department, supplier, times, SLA results
and the satisfaction rating are statistics that other people's figures (SLA attainment,
supplier scores) are computed from, and they say nothing about who wrote. Everything that
does is replaced by `MARKER` or removed: names, identities, message texts and subjects,
authors, attachments' descriptions, metadata, participants, the orders' contact columns,
pending answers (cancelled) and the values themselves wherever else they were written: in
other people's tickets and journals too, the trap that leaves names in Zammad's notes.

A message's dedup key is kept as a digest (`erased_key`), so a replay of a message that was
erased stays a no-op while no mail thread can reach the anonymous ticket any more: a person
who writes again afterwards is a new customer.

Nothing here touches files or Slack: the caller deletes the files listed in `Erasure.files`
and blanks the Slack lines in `Erasure.slack_lines` in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, bindparam, cast, delete, or_, select, update

from tickets import personal_data, search
from tickets.identities import normalize_email, normalize_phone
from tickets.outbox import CANCELLED, PENDING, SENDING, SENT
from tickets.personal_data import canonical, merged_family
from tickets.schema import (
    customers,
    identities,
    inbox,
    journal,
    merge_suggestions,
    messages,
    orders,
    outbox,
    proposals,
    ticket_participants,
    tickets,
)

MARKER = "[đã xóa / erased]"
# journal actions whose reason is a person's free text (an agent's note, a supplier's answer)
FREE_TEXT = ("note", "supplier_note", "desk_to_supplier")
_CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\d)")


def erased_key(channel: str, external_id: str) -> str:
    """What an erased message's dedup key becomes: the platform's id (a Message-ID may
    carry an address) is gone, a replay of the same message still finds it."""
    digest = hashlib.sha256(f"{channel}\x00{external_id}".encode()).hexdigest()
    return f"erased:{digest[:48]}"


@dataclass
class Erasure:
    """What one erasure did, in counts (a report must never repeat the data)."""

    customer_id: int
    customers: list[int]
    tickets: list[int] = field(default_factory=list)
    messages: int = 0
    identities: int = 0
    orders: int = 0
    cancelled: int = 0
    mentions: int = 0  # other tickets' messages, journal lines and notes that named them
    inbox: int = 0  # dead letters from them
    files: list[str] = field(default_factory=list)  # stored files nothing else uses now
    raw_mail: list[str] = field(default_factory=list)  # found on their messages
    attachments: list[str] = field(default_factory=list)
    slack_lines: list[tuple[int, int, str]] = field(default_factory=list)  # ticket, post, ts

    def summary(self) -> dict[str, int]:
        return {"customers": len(self.customers), "tickets": len(self.tickets),
                "messages": self.messages, "identities": self.identities,
                "orders": self.orders, "outbox_cancelled": self.cancelled,
                "mentions": self.mentions, "inbox": self.inbox, "files": len(self.files),
                "slack_lines": len(self.slack_lines)}


class Values:
    """The values that identify a person, and how to find and replace them in any text."""

    def __init__(self, names: Iterable[str | None], phones: Iterable[str],
                 emails: Iterable[str], others: Iterable[str]) -> None:
        self.phones = {p for p in phones if p}
        self.emails = {e.casefold() for e in emails if e}
        # a full name is theirs; a single given name ("Lan") is half the country's
        self.names = {n.strip() for n in names if n and len(n.split()) >= 2}
        self.others = {o for o in others if o and len(o) >= 6}
        literal = sorted(self.names | self.others, key=len, reverse=True)  # longest first
        self._literal = (re.compile("|".join(map(re.escape, literal)), re.IGNORECASE)
                         if literal else None)

    def __bool__(self) -> bool:
        return bool(self.phones or self.emails or self.names or self.others)

    def spellings(self) -> list[str]:
        """What to look for in the database: the values as people write them."""
        found = [*self.emails, *self.names, *self.others]
        for phone in self.phones:
            found += _phone_spellings(phone)
        return sorted(set(found))

    def scrub(self, text: str) -> str:
        def phone(match: re.Match[str]) -> str:
            value = normalize_phone(match.group(0))
            return MARKER if value in self.phones else match.group(0)

        def email(match: re.Match[str]) -> str:
            value = normalize_email(match.group(0))
            return MARKER if value is not None and value.casefold() in self.emails \
                else match.group(0)

        text = _EMAIL.sub(email, _PHONE.sub(phone, text))
        return self._literal.sub(MARKER, text) if self._literal is not None else text


def _phone_spellings(phone: str) -> list[str]:
    """+84912345678 as written: 0912345678, 84912345678, 0912 345 678, 0912.345.678, ..."""
    if not phone.startswith("+84"):
        return [phone]
    national = "0" + phone[3:]
    a, b, c = national[:4], national[4:7], national[7:]
    d, e, f = national[:3], national[3:6], national[6:]
    return [phone, phone[1:], national, f"{a} {b} {c}", f"{a}.{b}.{c}", f"{a}-{b}-{c}",
            f"{d} {e} {f}", f"{d}.{e}.{f}", f"{national[:4]} {national[4:6]} "
            f"{national[6:8]} {national[8:]}"]


def erase_customer(conn: Connection, customer_id: int, actor: str, via: str, reason: str,
                   now: datetime) -> Erasure | None:
    """Erase the person `customer_id` belongs to (merges followed both ways); None when no
    such customer exists. Idempotent: a second run finds nothing left to erase."""
    main = canonical(conn, customer_id)
    if main is None:
        return None
    people = merged_family(conn, main)
    values = values_of(conn, people)
    result = Erasure(main, people)
    result.tickets = [int(t) for t in conn.execute(
        select(tickets.c.id).where(tickets.c.customer_id.in_(people),
                                   tickets.c.anonymised_at.is_(None))
        .order_by(tickets.c.id)).scalars()]
    note = f"personal data erased ({via}) by {actor}: {values.scrub(reason)}"
    anonymise(conn, result.tickets, values, actor, note, now, result)
    result.mentions += scrub_mentions(conn, values, result.tickets)
    result.identities = _delete(conn, identities, identities.c.customer_id.in_(people))
    _delete(conn, merge_suggestions, or_(merge_suggestions.c.customer_id.in_(people),
                                         merge_suggestions.c.candidate_id.in_(people)))
    result.orders = _forget_orders(conn, values)
    conn.execute(update(customers).where(customers.c.id.in_(people))
                 .values(name=None, name_key=None))
    result.cancelled += _cancel_to(conn, values)
    result.inbox = _drop_dead_letters(conn, values)
    personal_data.log(conn, actor, via, "erase", main, now, {"reason": values.scrub(reason),
                                               **result.summary()})
    return result


def values_of(conn: Connection, people: Sequence[int]) -> Values:
    names = conn.execute(select(customers.c.name).where(customers.c.id.in_(people))).scalars()
    rows = conn.execute(select(identities.c.kind, identities.c.value)
                        .where(identities.c.customer_id.in_(people))).all()
    return Values(list(names), [v for k, v in rows if k == "phone"],
                  [v for k, v in rows if k == "email"],
                  [v for k, v in rows if k not in ("phone", "email")])


def anonymise(conn: Connection, ticket_ids: Sequence[int], values: Values, actor: str,
              note: str, now: datetime, result: Erasure) -> None:
    """Strip `ticket_ids` of everything personal, journal that it happened (without the
    data), and add what was found to `result`."""
    for chunk in _chunks(ticket_ids):
        result.messages += _anonymise_messages(conn, chunk, result)
        conn.execute(update(tickets).where(tickets.c.id.in_(chunk)).values(
            subject=None, thread_key=None, anonymised_at=now))
        conn.execute(delete(ticket_participants)
                     .where(ticket_participants.c.ticket_id.in_(chunk)))
        # what people wrote freely about the ticket (notes, suppliers' answers) may
        # repeat anything the customer said: it goes whole; the rest is scrubbed of values
        conn.execute(update(journal).where(journal.c.ticket_id.in_(chunk),
                                           journal.c.action.in_(FREE_TEXT)).values(
            reason=MARKER))
        _scrub_rows(conn, journal, journal.c.ticket_id.in_(chunk), values,
                    ("reason", "data"))
        conn.execute(update(proposals).where(proposals.c.ticket_id.in_(chunk))
                     .values(note=MARKER))
        result.cancelled += _anonymise_outbox(conn, chunk, result)
        conn.execute(journal.insert(), [
            {"ticket_id": t, "at": now, "actor": actor[:128], "action": "erased",
             "reason": note, "data": {}} for t in chunk])
    result.files = _unused_files(conn, result.raw_mail, result.attachments)


def _anonymise_messages(conn: Connection, chunk: Sequence[int], result: Erasure) -> int:
    rows = conn.execute(select(messages.c.id, messages.c.channel, messages.c.external_id,
                               messages.c.author_kind, messages.c.attachments,
                               messages.c.meta)
                        .where(messages.c.ticket_id.in_(chunk))).all()
    changes = []
    for row in rows:
        result.attachments += [str(a["stored_path"]) for a in row.attachments or []
                               if isinstance(a, dict) and a.get("stored_path")]
        raw = (row.meta or {}).get("raw_path")
        if raw:
            result.raw_mail.append(str(raw))
        key = row.external_id
        if key is not None and not key.startswith("erased:"):
            key = erased_key(row.channel, key)
        changes.append({"i": row.id, "key": key, "who": MARKER if row.author_kind in (
            "customer", MARKER) else None})
    if changes:
        conn.execute(update(messages).where(messages.c.id == bindparam("i")).values(
            external_id=bindparam("key"), text=MARKER, subject=None, attachments=[],
            meta={"erased": "1"}, folded=None), changes)
        conn.execute(update(messages).where(messages.c.ticket_id.in_(chunk),
                                            messages.c.author_kind == "customer")
                     .values(author=MARKER))
    return len(changes)


def _anonymise_outbox(conn: Connection, chunk: Sequence[int], result: Erasure) -> int:
    """Answers not yet sent are cancelled; sent ones keep only their status and times.
    Lines posted in Slack threads are listed so the caller can blank them there."""
    rows = conn.execute(select(outbox.c.id, outbox.c.ticket_id, outbox.c.channel,
                               outbox.c.status, outbox.c.payload, outbox.c.external_id)
                        .where(outbox.c.ticket_id.in_(chunk))).all()
    cancelled = 0
    for row in rows:
        payload = dict(row.payload or {})
        thread = dict(payload.get("thread") or {})
        op = thread.get("op")
        if row.channel == "slack" and op in ("card", "moved"):
            continue  # drawn from the ticket's state when sent: nothing of theirs inside
        payload.update(text=MARKER, subject=None, html=None, thread={
            k: v for k, v in thread.items() if k in ("op", "post_id", "to_channel")})
        values: dict[str, Any] = {"payload": payload}
        if row.channel != "slack":
            values["recipient"] = payload["recipient"] = MARKER
        if row.status in (PENDING, SENDING):
            values.update(status=CANCELLED, last_error="personal data erased",
                          claimed_until=None)
            cancelled += row.channel != "slack"
        elif row.channel == "slack" and row.status == SENT and row.external_id \
                and op in ("thread", "history") and thread.get("post_id") is not None:
            result.slack_lines.append((int(row.ticket_id), int(thread["post_id"]),
                                       str(row.external_id)))
        conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
    return cancelled


def _unused_files(conn: Connection, raw_mail: Iterable[str],
                  attachments: Iterable[str]) -> list[str]:
    """The stored files no message still names. A raw mail is its own (stored under the
    digest of the whole message, Message-ID included, which dedup makes unique); an
    attachment is stored by content, and the same photo sent by someone else is theirs too
    and stays. One pass over the messages that have attachments at all."""
    wanted = set(attachments)
    if wanted:
        rows = conn.execute(select(messages.c.attachments).where(
            cast(messages.c.attachments, String) != "[]"))
        for (found,) in rows:
            for item in found or []:
                if isinstance(item, dict) and item.get("stored_path") in wanted:
                    wanted.discard(str(item["stored_path"]))
    return sorted(set(raw_mail)) + sorted(wanted)


def scrub_mentions(conn: Connection, values: Values, exclude: Sequence[int]) -> int:
    """Their phones, addresses, platform ids and full name wherever else they were written:
    other customers' messages, agents' notes, journal lines, suppliers' proposals."""
    spellings = values.spellings()
    if not spellings:
        return 0
    skip = set(exclude)
    found = 0
    for table, columns in ((messages, ("text", "subject")), (journal, ("reason", "data")),
                           (proposals, ("note",))):
        for spelled in _chunks(spellings, 50):
            where = or_(*(cast(table.c[c], String).contains(s, autoescape=True)
                          for c in columns for s in spelled))
            found += _scrub_rows(conn, table, where, values, columns, skip)
    return found


def _scrub_rows(conn: Connection, table: Any, where: Any, values: Values,
                columns: Sequence[str], skip: set[int] | None = None) -> int:
    if not values:
        return 0
    rows = conn.execute(select(table.c.id, *(table.c[c] for c in columns),
                               *([table.c.ticket_id] if skip else [])).where(where)).all()
    changed = 0
    for row in rows:
        if skip and row.ticket_id in skip:
            continue
        new = {c: _scrub_value(getattr(row, c), values) for c in columns}
        if any(new[c] != getattr(row, c) for c in columns):
            if table is messages:  # the search index reads the folded copy
                new["folded"] = search.folded(new.get("subject"), str(new.get("text", "")))
            conn.execute(update(table).where(table.c.id == row.id).values(**new))
            changed += 1
    return changed


def _scrub_value(value: Any, values: Values) -> Any:
    if isinstance(value, str):
        return values.scrub(value)
    if value is None:
        return None
    return json.loads(values.scrub(json.dumps(value, ensure_ascii=False)))


def _forget_orders(conn: Connection, values: Values) -> int:
    phones, emails = sorted(values.phones), sorted(values.emails)
    changed = 0
    if phones:
        changed += conn.execute(update(orders).where(orders.c.customer_phone.in_(phones))
                                .values(customer_phone=None)).rowcount
    if emails:
        changed += conn.execute(update(orders).where(orders.c.customer_email.in_(emails))
                                .values(customer_email=None)).rowcount
    return changed


def _cancel_to(conn: Connection, values: Values) -> int:
    """What waits for them outside any ticket (none today; the outbox allows it)."""
    recipients = sorted(values.phones | values.emails | values.others)
    if not recipients:
        return 0
    rows = conn.execute(select(outbox.c.id, outbox.c.payload).where(
        outbox.c.recipient.in_(recipients), outbox.c.status.in_([PENDING, SENDING]))).all()
    for row in rows:
        payload = {**(row.payload or {}), "recipient": MARKER, "text": MARKER,
                   "subject": None, "html": None}
        conn.execute(update(outbox).where(outbox.c.id == row.id).values(
            status=CANCELLED, last_error="personal data erased", recipient=MARKER,
            payload=payload))
    return len(rows)


def _drop_dead_letters(conn: Connection, values: Values) -> int:
    """Dead-lettered messages from them (kept for a person to look at; never processed)."""
    spellings = values.spellings()
    if not spellings:
        return 0
    return conn.execute(delete(inbox).where(inbox.c.dead.is_(True), or_(
        *(inbox.c.payload.contains(s, autoescape=True) for s in spellings)))).rowcount


def _delete(conn: Connection, table: Any, where: Any) -> int:
    return int(conn.execute(delete(table).where(where)).rowcount)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
