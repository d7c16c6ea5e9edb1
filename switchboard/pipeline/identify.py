"""Who wrote: the sender's identity, whether a supplier is speaking, the customer behind
it (new or returning, merged when the text names another customer's phone or email) and
what they bought. Returns the journal lines that say so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from router import Classifier, Prepared
from switchboard.pipeline import journal
from switchboard.pipeline.batch import Batch
from switchboard.ticket_rules.classification import sender_supplier
from tickets import customers
from tickets.catalog import OrderRef, orders_for_contacts
from tickets.identities import IdentityKind, sender_identity
from tickets.messages import Channel, InboundMessage
from tickets.store import JournalEntry


@dataclass(frozen=True, slots=True)
class Sender:
    kind: str  # the identity kind (email, phone, zalo, ...)
    value: str  # in its canonical spelling
    supplier_id: str | None  # a registered contact of this supplier, or the portal's user

    @property
    def author_kind(self) -> str:
        return "supplier" if self.supplier_id else "customer"


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    first_contact: bool
    bought: Sequence[OrderRef]
    entries: Sequence[JournalEntry]  # "identified" first, then merges and notes


def sender_of(classifier: Classifier, message: InboundMessage) -> Sender:
    kind, value = sender_identity(message.channel.value, message.sender)
    supplier_id = sender_supplier(classifier, kind, value, message.meta.get("from_address"))
    if message.channel is Channel.PORTAL and message.meta.get("supplier_id"):
        # the portal wrote it for a logged-in supplier user (no other intake can use this
        # channel): the supplier speaking, whatever the catalog's contacts say
        supplier_id = str(message.meta["supplier_id"])
    return Sender(kind, value, supplier_id)


def customer(conn: Connection, batch: Batch, message: InboundMessage, sender: Sender,
             prepared: Prepared, now: datetime) -> Customer:
    resolved = batch.customer((sender.kind, sender.value))
    assert resolved is not None, "Batch.prepare resolves every sender"
    customer_id, first_contact = resolved
    entries = [_identified(conn, customer_id, first_contact, sender, message, now)]
    mentions = prepared.entities.phones or prepared.entities.emails
    if mentions and message.meta.get("no_reply"):
        # a no-reply mailer carries many people's addresses: they are not its own
        entries.append(JournalEntry("identified", f"{message.sender} is a no-reply "
                                    "address: the phones and emails in the text are not "
                                    "linked to it"))
        mentions = ()
    if sender.supplier_id is None and mentions:
        linked, merges = _link_identities(conn, batch, customer_id, prepared, now)
        entries += merges
        first_contact = first_contact and linked == customer_id
        customer_id = linked
    if first_contact and not mentions:  # the sender is the only identity: prefetched
        bought = batch.orders_of([sender.value])
    else:
        bought = orders_for_contacts(conn, *customers.contacts_of(conn, customer_id))
    return Customer(customer_id, first_contact, bought, entries)


def _identified(conn: Connection, customer_id: int, new: bool, sender: Sender,
                message: InboundMessage, now: datetime) -> JournalEntry:
    kind, value = sender.kind, sender.value
    if sender.supplier_id:
        return JournalEntry("identified", f"sender {kind} {value} is a registered contact "
                            f"of supplier {sender.supplier_id}: the supplier is speaking",
                            data={"customer_id": customer_id,
                                  "supplier_id": sender.supplier_id})
    if new:
        reason = f"new customer #{customer_id} ({kind} {value})"
        if message.sender_name:
            similar = customers.suggest_by_name(conn, customer_id, message.sender_name, now)
            if similar:
                reason += (f"; same name as customer(s) {', '.join(f'#{c}' for c in similar)}"
                           ": suggested for a merge, not merged")
        return JournalEntry("identified", reason, data={"customer_id": customer_id,
                                                        "new": True})
    return JournalEntry("identified", f"returning customer #{customer_id} ({kind} {value})",
                        data={"customer_id": customer_id, "new": False})


def _link_identities(conn: Connection, batch: Batch, customer_id: int, prepared: Prepared,
                     now: datetime) -> tuple[int, list[JournalEntry]]:
    """Phones and emails written in the message belong to the writer; if one is already
    another customer's, the two are the same person (exact match) and are merged."""
    found = [(IdentityKind.PHONE.value, p) for p in prepared.entities.phones]
    found += [(IdentityKind.EMAIL.value, e) for e in prepared.entities.emails]
    entries: list[JournalEntry] = []
    for kind, value in found:
        merge = customers.link(conn, customer_id, kind, value, now, source="message text")
        if merge is not None:
            entries.append(journal.merged(merge))
            batch.merged(merge.dropped, merge.kept)
            customer_id = merge.kept
    return customer_id, entries
