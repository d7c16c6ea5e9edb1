"""What the messages of one inbox batch share: lookups made once, writes made once.

A batch of 200 messages would otherwise cost 200 identity lookups, 200 customer inserts,
200 order lookups and 200 message inserts, each paying SQLAlchemy's per-statement overhead
(larger than SQLite's own work). Here senders are resolved and new customers created with
one statement each for the whole batch, their orders fetched with one query, and message and
journal rows written together at the end — all inside the batch's transaction, so the
all-or-nothing guarantee is unchanged. In isolation mode (one message per savepoint, after
a failure) every write happens at once instead, so a rollback takes exactly one message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from router import Classifier, Prepared
from router.model import Reading
from tickets import store
from tickets.catalog import OrderRef, orders_for_contacts
from tickets.customers import name_key
from tickets.fastsql import FastInsert
from tickets.identities import IdentityKind, sender_identity
from tickets.messages import InboundMessage
from tickets.schema import customers, identities, ticket_participants

Identity = tuple[str, str]

_KNOWN = (
    select(identities.c.kind, identities.c.value, identities.c.customer_id, customers.c.name)
    .join(customers, customers.c.id == identities.c.customer_id)
    .where(identities.c.kind.in_(bindparam("kinds", expanding=True)),
           identities.c.value.in_(bindparam("values", expanding=True)))
)
MAX_PARTICIPANTS = 5
_IS_PARTICIPANT = select(ticket_participants.c.ticket_id).where(
    ticket_participants.c.ticket_id == bindparam("ticket_id"),
    ticket_participants.c.address == bindparam("address"))
_NEW_CUSTOMER = FastInsert(customers, returning_id=True)
_NEW_IDENTITIES = FastInsert(identities)


class Batch:
    def __init__(self, conn: Connection, now: datetime, *, deferred: bool = True) -> None:
        self.conn = conn
        self.now = now
        self.deferred = deferred
        self._messages: list[dict[str, object]] = []
        self._journal: list[dict[str, object]] = []
        self._pending: dict[tuple[str, str], int] = {}
        self._customers: dict[Identity, int] = {}
        self._first_contact: set[Identity] = set()
        self._orders: dict[str, list[OrderRef]] = {}
        self._after: list[Callable[[], None]] = []
        self._participants: dict[tuple[int, str], None] = {}
        self._reader: Classifier | None = None
        self._readings: dict[tuple[str, str], tuple[Prepared, Reading | None]] = {}

    def prepare(self, messages: Sequence[InboundMessage]) -> None:
        """Resolve every sender of the batch, creating the customers seen for the first time
        (named after the first message that carries a name), and fetch their orders."""
        senders: dict[Identity, str | None] = {}
        for message in messages:
            sender: Identity = sender_identity(message.channel.value, message.sender)
            if senders.get(sender) is None:
                senders[sender] = message.sender_name
        if not senders:
            return
        rows = self.conn.execute(_KNOWN, {"kinds": sorted({k for k, _ in senders}),
                                          "values": sorted({v for _, v in senders})}).all()
        unnamed: list[tuple[int, str]] = []
        for row in rows:
            key = (row.kind, row.value)
            if key in senders:
                self._customers[key] = int(row.customer_id)
                if row.name is None and senders[key]:
                    unnamed.append((int(row.customer_id), str(senders[key])))
        for customer_id, name in unnamed:
            self.conn.execute(update(customers).where(customers.c.id == customer_id)
                              .values(name=name, name_key=name_key(name)))
        fresh = [key for key in senders if key not in self._customers]
        if fresh:
            ids = _NEW_CUSTOMER.many_ids(self.conn, [
                {"name": senders[key], "name_key": name_key(senders[key]),
                 "created_at": self.now, "merged_into": None} for key in fresh])
            _NEW_IDENTITIES.many(self.conn, [
                {"customer_id": i, "kind": k, "value": v, "created_at": self.now,
                 "source": "sender"} for i, (k, v) in zip(ids, fresh, strict=True)])
            self._customers.update(zip(fresh, ids, strict=True))
            self._first_contact.update(fresh)
        phones = [v for k, v in senders if k == IdentityKind.PHONE]
        emails = [v for k, v in senders if k == IdentityKind.EMAIL]
        for order in orders_for_contacts(self.conn, phones, emails):
            for contact in (order.phone, order.email):
                if contact:
                    self._orders.setdefault(contact, []).append(order)

    def read(self, classifier: Classifier, messages: Sequence[InboundMessage]) -> None:
        """Prepare every message's text and let the text model read them all in one pass
        (`read_many`: about half its cost per message); `reading` hands them out."""
        prepared = [classifier.prepare(m.text, m.subject) for m in messages]
        readings = classifier.read_many(prepared)
        self._reader = classifier
        self._readings = {(m.channel.value, m.external_id): (p, reading)
                          for m, p, reading in zip(messages, prepared, readings,
                                                   strict=True)}

    def reading(self, classifier: Classifier, message: InboundMessage
                ) -> tuple[Prepared, Reading | None]:
        """The message's text as `read` prepared it (when this classifier read it), else
        prepared now, the model's reading left to `classify`."""
        if classifier is self._reader:
            found = self._readings.get((message.channel.value, message.external_id))
            if found is not None:
                return found
        return classifier.prepare(message.text, message.subject), None

    def customer(self, key: Identity) -> tuple[int, bool] | None:
        """(customer id, first contact?) for a sender resolved by `prepare`; the first
        message of a new customer is their first contact, the next ones are not."""
        customer_id = self._customers.get(key)
        if customer_id is None:
            return None
        first = key in self._first_contact
        self._first_contact.discard(key)
        return customer_id, first

    def merged(self, dropped: int, kept: int) -> None:
        for key, customer_id in self._customers.items():
            if customer_id == dropped:
                self._customers[key] = kept

    def orders_of(self, contacts: Iterable[str]) -> list[OrderRef]:
        seen: dict[str, OrderRef] = {}
        for contact in contacts:
            for order in self._orders.get(contact, ()):
                seen[order.code] = order
        return sorted(seen.values(), key=lambda o: o.code)

    def ticket_of_message(self, channel: str, external_ids: Sequence[str]) -> int | None:
        for external_id in reversed(external_ids):
            ticket_id = self._pending.get((channel, external_id))
            if ticket_id is not None:
                return ticket_id
        return store.ticket_of_message(self.conn, channel, external_ids)

    def add_message(self, values: dict[str, object]) -> None:
        if not self.deferred:
            store.add_message(self.conn, values)
            return
        self._messages.append(values)
        self._pending[(str(values["channel"]), str(values["external_id"]))] = int(
            values["ticket_id"])  # type: ignore[call-overload]

    def add_journal(self, ticket_id: int, entries: Sequence[store.JournalEntry]) -> None:
        rows = store.journal_rows(ticket_id, self.now, entries)
        if self.deferred:
            self._journal.extend(rows)
        else:
            store.insert_journal(self.conn, rows)

    def add_participants(self, ticket_id: int, addresses: Sequence[str]) -> None:
        """People copied on the ticket's mail may answer into it; a mail to a crowd (more
        than MAX_PARTICIPANTS addresses) adds none."""
        if not addresses or len(addresses) > MAX_PARTICIPANTS:
            return
        for address in addresses:
            self._participants[(ticket_id, address)] = None
        if not self.deferred:
            self._flush_participants()

    def is_participant(self, ticket_id: int, address: str) -> bool:
        if (ticket_id, address) in self._participants:
            return True
        return self.conn.execute(_IS_PARTICIPANT, {"ticket_id": ticket_id,
                                                   "address": address}).first() is not None

    def _flush_participants(self) -> None:
        if self._participants:
            insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
            self.conn.execute(insert(ticket_participants).on_conflict_do_nothing(), [
                {"ticket_id": t, "address": a, "role": "cc"} for t, a in self._participants])
            self._participants.clear()

    def after_messages(self, action: Callable[[], None]) -> None:
        """Run `action` once the batch's messages are written (at once when not deferred):
        what answers a message must come after it."""
        if self.deferred:
            self._after.append(action)
        else:
            action()

    def flush(self) -> None:
        if self._messages:
            store.add_messages(self.conn, self._messages)
            self._messages.clear()
            self._pending.clear()
        for action in self._after:
            action()
        self._after.clear()
        self._flush_participants()
        store.insert_journal(self.conn, self._journal)
        self._journal.clear()

