"""How a message and the pipeline's decisions are written down: the message's row, its
metadata, the ticket's subject and the journal entries the stages return."""

from __future__ import annotations

from router import Classification
from tickets.customers import Merge
from tickets.messages import InboundMessage
from tickets.store import JournalEntry


def inbound_row(message: InboundMessage, ticket_id: int, author: str, author_kind: str,
                meta: dict[str, str], classification: dict[str, object] | None = None
                ) -> dict[str, object]:
    """The message as its ticket keeps it."""
    return {"ticket_id": ticket_id, "direction": "in", "channel": message.channel.value,
            "external_id": message.external_id, "author": author, "author_kind": author_kind,
            "subject": message.subject, "text": message.text,
            "attachments": [a.to_dict() for a in message.attachments],
            "classification": classification, "meta": meta, "created_at": message.received_at}


def message_meta(message: InboundMessage, sender: str) -> dict[str, str]:
    """The connector's metadata, less what is kept elsewhere (participants have a table)."""
    meta = {k: v for k, v in message.meta.items() if k != "participants"}
    if message.recipient:
        meta["recipient"] = message.recipient
    meta["from"] = sender
    return meta


def subject_of(message: InboundMessage) -> str:
    """The mail's subject, or the first line of a chat message (chats have none)."""
    if message.subject and message.subject.strip():
        return message.subject.strip()[:500]
    first_line = message.text.strip().splitlines()[0] if message.text.strip() else ""
    return (first_line[:80] + "…") if len(first_line) > 80 else first_line


def summary(result: Classification) -> dict[str, object]:
    """What the router said of this one message, kept on its row."""
    return {"category": result.category, "topic": result.topic,
            "supplier_id": result.supplier_id, "confidence": result.confidence,
            "rules": list(result.rules)}


def classified(result: Classification, reclassified_from: str | None = None) -> JournalEntry:
    reason = result.explain()
    if result.supplier_id:
        reason += f"; supplier {result.supplier_id} ({result.supplier_source})"
    else:
        reason += "; no supplier identified"
    if reclassified_from:
        reason = f"reclassified from {reclassified_from}: " + reason
    return JournalEntry("classified", reason, data={
        "category": result.category, "topic": result.topic, "supplier_id": result.supplier_id,
        "confidence": result.confidence, "rules": list(result.rules),
        "scores": dict(result.scores), "fallback": result.fallback})


def merged(merge: Merge) -> JournalEntry:
    return JournalEntry("merged", f"customer #{merge.dropped} merged into #{merge.kept}: "
                        f"{merge.reason}", data={"kept": merge.kept, "dropped": merge.dropped})
