"""The relational schema: SQLAlchemy Core tables, shared by SQLite and PostgreSQL.

Core rather than the ORM because the pipeline's hot path is a handful of indexed statements
per message in one transaction per batch; the ORM's unit of work would cost more than the
work itself. Alembic migrations under `tickets/migrations/` create exactly this metadata
(a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC.

    SQLite hands back naive datetimes even for `DateTime(timezone=True)`, so the database
    holds UTC without a zone everywhere and the zone is put back on the way out.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


suppliers = Table(
    "suppliers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("aliases", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

supplier_contacts = Table(
    "supplier_contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("supplier_id", String(64), ForeignKey("suppliers.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("value", String(320), nullable=False),
    UniqueConstraint("kind", "value", name="uq_supplier_contacts_kind_value"),
)

orders = Table(
    "orders",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("supplier_id", String(64), ForeignKey("suppliers.id"), nullable=False, index=True),
    Column("product", String(500), nullable=False),
    Column("customer_phone", String(32), index=True),
    Column("customer_email", String(320), index=True),
    Column("amount", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # where the order is, as the shop's system last said (the bot's order-status answer)
    Column("status", String(16)),  # placed, confirmed, shipping, delivered, cancelled, ...
    Column("status_at", UTCDateTime),
    Column("carrier", String(64)),
    Column("tracking_code", String(128)),
    Column("expected_at", UTCDateTime),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255)),
    Column("name_key", String(255), index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("merged_into", Integer, ForeignKey("customers.id"), nullable=True),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("value", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("source", String(32), nullable=False),
    UniqueConstraint("kind", "value", name="uq_identities_kind_value"),
)

merge_suggestions = Table(
    "merge_suggestions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("candidate_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("customer_id", "candidate_id", name="uq_merge_suggestions_pair"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("status", String(24), nullable=False),
    Column("channel", String(24), nullable=False),
    Column("category", String(32), nullable=False),
    Column("topic", String(32)),
    Column("supplier_id", String(64), ForeignKey("suppliers.id")),
    Column("department", String(64), nullable=False),
    Column("assigned_supplier_id", String(64), ForeignKey("suppliers.id")),
    Column("assignee", String(128)),
    Column("priority", String(16), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("sender_kind", String(16), nullable=False),
    Column("subject", String(500)),
    Column("confidence", Float, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("sla_level", String(16), nullable=False),
    Column("thread_key", String(255)),
    Column("linked_ticket_id", Integer, ForeignKey("tickets.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("first_response_at", UTCDateTime),
    Column("sla", JSON),  # the clocks: see sla/timers.py
    Column("sla_next_at", UTCDateTime),  # when the sweeper must look at it next
    Column("sla_version", Integer, nullable=False, default=0, server_default="0"),  # CAS
    Column("supplier_done_at", UTCDateTime),  # the supplier marked it done on their side
    Column("survey_sent_at", UTCDateTime),  # the satisfaction question went out
    Column("csat", Integer),  # the customer's answer, 1..5
    Column("csat_at", UTCDateTime),
    # the personal data in it was erased (a customer's request, or the retention time)
    Column("anonymised_at", UTCDateTime),
    # the bot's part: null (never involved), "answered" (its answer stands, no human clock
    # runs), "handed_over" (people have it; the bot stays silent on it from then on)
    Column("bot_state", String(16)),
    Index("ix_tickets_customer_status", "customer_id", "status"),
    Index("ix_tickets_sla_next_at", "sla_next_at"),
    Index("ix_tickets_assignee_status", "assignee", "status"),
    Index("ix_tickets_status_created", "status", "created_at"),
    Index("ix_tickets_thread_key", "thread_key"),
    Index("ix_tickets_department", "department"),
    Index("ix_tickets_supplier", "supplier_id"),
    Index("ix_tickets_closed_at", "closed_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("direction", String(8), nullable=False),
    Column("channel", String(24), nullable=False),
    Column("external_id", String(512)),
    Column("author", String(320), nullable=False),
    Column("author_kind", String(16), nullable=False),
    Column("subject", String(500)),
    Column("text", Text, nullable=False),
    Column("attachments", JSON, nullable=False),
    Column("classification", JSON),
    Column("meta", JSON),
    Column("created_at", UTCDateTime, nullable=False),
    # subject and text folded for search (tickets/search.py): indexed by FTS5 on SQLite
    # (`messages_fts`) and GIN on PostgreSQL (`ix_messages_search`), made by migration 0008
    Column("folded", Text),
    UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
)

ticket_participants = Table(
    "ticket_participants",
    metadata,
    Column("ticket_id", Integer, ForeignKey("tickets.id"), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("role", String(16), nullable=False),
)

journal = Table(
    "journal",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("data", JSON, nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(24), nullable=False),
    Column("external_id", String(512), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("dead", Boolean, nullable=False, default=False),
    UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # NULL for what concerns no one ticket (the daily digest to managers)
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=True, index=True),
    Column("message_id", Integer, ForeignKey("messages.id")),
    Column("channel", String(24), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime),
    Column("last_error", Text),
    Column("external_id", String(512)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_recipient", "channel", "recipient", "created_at"),
)

mail_state = Table(
    "mail_state",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("folder", String(255), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Where each ticket lives in Slack: the ticket message (its card) and its thread. A transfer
# posts a new card in the other department's channel; the old one stays, not current.
slack_posts = Table(
    "slack_posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("ts", String(32)),  # null until the card is posted
    Column("current", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "ts", name="uq_slack_posts_channel_ts"),
)

# What Slack sent that we have acted on (event_id, or the action/command's own key): Slack
# retries, and a retried action must not act twice (DESIGN invariant 2).
slack_events = Table(
    "slack_events",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
)

# Round-robin position per department: whom the last new ticket was offered to.
assignment_cursor = Table(
    "assignment_cursor",
    metadata,
    Column("department", String(64), primary_key=True),
    Column("last_agent", String(128), nullable=False),
)

# Each SLA step as it happened, once: warnings, breaches, further levels, met or missed.
sla_events = Table(
    "sla_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("timer", String(32), nullable=False),
    Column("level", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # warning, breach, escalation, met, missed
    Column("due_at", UTCDateTime),
    Column("at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
)


# -- the web portal: suppliers' staff and managers --------------------------------------

portal_users = Table(
    "portal_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # lower-cased
    Column("name", String(255), nullable=False),
    # a supplier's staff member; NULL for marketplace staff, whose role is in `agents:`
    Column("supplier_id", String(64), ForeignKey("suppliers.id"), index=True),
    Column("password_hash", String(255), nullable=False),  # argon2id
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
)

portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie: a leaked
    Column("user_id", Integer, ForeignKey("portal_users.id", ondelete="CASCADE"),  # table
           nullable=False, index=True),  # is no key to anyone's account
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False),  # "email:..." or "ip:..."
    Column("at", UTCDateTime, nullable=False),
    Index("ix_login_failures_key_at", "key", "at"),
)

proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("supplier_id", String(64), ForeignKey("suppliers.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # refund, replacement, re_service
    Column("amount", BigInteger, nullable=False),  # VND; 0 when nothing is paid back
    Column("note", Text, nullable=False),
    Column("status", String(16), nullable=False),  # proposed, approved, rejected
    Column("created_by", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", UTCDateTime),
)

# Related tickets, as people link them: each link is two rows, one per side, saying what the
# other ticket is to this one (parent, child or related). A merge and a split use
# `tickets.linked_ticket_id` instead: they are one ticket's history, not a relation.
ticket_links = Table(
    "ticket_links",
    metadata,
    Column("ticket_id", Integer, ForeignKey("tickets.id"), primary_key=True),
    Column("other_id", Integer, ForeignKey("tickets.id"), primary_key=True),
    Column("kind", String(16), nullable=False),  # what other_id is to ticket_id
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# A person's merge of two customers, kept so it can be undone for a day: what moved.
customer_merges = Table(
    "customer_merges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kept_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("dropped_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("identity_ids", JSON, nullable=False),
    Column("ticket_ids", JSON, nullable=False),
    Column("name_taken", Boolean, nullable=False),  # the kept one had no name and took this
    Column("merged_by", String(128), nullable=False),
    Column("merged_at", UTCDateTime, nullable=False),
    Column("undone_by", String(128)),
    Column("undone_at", UTCDateTime),
)

# Who is answering a ticket right now (opened Slack's reply form), so a second agent is
# warned before answering too; stale after a few minutes (switchboard/desk/presence.py).
ticket_presence = Table(
    "ticket_presence",
    metadata,
    Column("ticket_id", Integer, ForeignKey("tickets.id"), primary_key=True),
    Column("agent", String(128), nullable=False),
    Column("since", UTCDateTime, nullable=False),
)

# A person's correction of the router: the ticket's first customer message, what the
# router said of it, and what the person chose. The text stays on the message (an erasure
# blanks it there, so no copy of it outlives the person); these rows are the labelled
# examples a model learns from and the measure of how often people disagree.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("message_id", Integer, ForeignKey("messages.id"), index=True),
    Column("router_category", String(32), nullable=False),
    Column("router_topic", String(32)),
    Column("router_confidence", Float),
    Column("router_rules", JSON, nullable=False),
    Column("category", String(32), nullable=False),
    Column("topic", String(32)),
    Column("actor", String(128), nullable=False),
    Column("via", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
)

alerts_sent = Table(
    "alerts_sent",
    metadata,
    Column("key", String(255), primary_key=True),  # what jumped, and the hour it jumped in
    Column("at", UTCDateTime, nullable=False),
)


# Who saw, exported or erased a customer's personal data, and when (Vietnam's Personal Data
# Protection Law: the controller must be able to show it). Never the data itself.
personal_data_log = Table(
    "personal_data_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(320), nullable=False),
    Column("via", String(16), nullable=False),  # api, portal, slack, cli, retention
    Column("action", String(16), nullable=False),  # profile, ticket, export, erase, anonymise
    Column("customer_id", Integer, ForeignKey("customers.id"), index=True),
    Column("detail", JSON, nullable=False),
)
