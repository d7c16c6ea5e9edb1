"""An answer to the customer, however a person sends it (the API, Slack, a macro): composed for the
ticket's channel, written as the ticket's message and the outbox's row in the caller's
transaction, journaled, counted as the first response, and shown in the Slack thread. On a
ticket the bot answered, a person's answer hands it to people for good.
A saved reply is filled in for the ticket first; one it cannot fill is refused whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from switchboard.desk import actions, slack_cards
from switchboard.desk.saved_reply import render_for_ticket
from switchboard.outbox.compose import compose_reply, record_outbound
from switchboard.outbox.saved_replies import SavedReplies
from switchboard.settings import Settings
from switchboard.ticket_rules import bot_state
from switchboard.ticket_rules.sla_keeper import keeper_for
from tickets import store


@dataclass(frozen=True, slots=True)
class Sent:
    outbox_id: int
    ticket_ref: str
    text: str


def send(conn: Connection, settings: Settings, secret: bytes, ticket_id: int, author: str,
         now: datetime, *, text: str = "", html: str | None = None,
         saved: str | None = None, replies: SavedReplies | None = None, via: str = "",
         echo: bool = True) -> Sent:
    """Raises CannotReply (the channel cannot take it) or ReplyError (a saved reply).
    `saved` with `replies` is filled in here; without, `text` is that reply already filled
    in (Slack's form shows it to the agent first). `via` ends the journal line ("from
    Slack"); `echo=False` when the answer was typed in the ticket's Slack thread itself."""
    if saved is not None and replies is not None:
        text = render_for_ticket(conn, settings, replies, ticket_id, saved, author, now).text
    message = compose_reply(conn, settings, secret, ticket_id, text, html, now=now)
    handed = bot_state.hand_over(conn, keeper_for(settings), ticket_id, "person_answered",
                                 author, now)  # the bot is silent from now on
    if handed:
        store.append_journal(conn, ticket_id, now, handed)
        slack_cards.refresh_card(conn, settings, ticket_id, now)
    _, outbox_id = record_outbound(conn, ticket_id=ticket_id, message=message, kind="reply",
                                   author=author, now=now)
    store.append_journal(conn, ticket_id, now, [store.JournalEntry(
        "replied", f"{author} answered the customer by {message.channel.value}{via}"
        + (f" (saved reply {saved})" if saved else ""),
        actor=author, data={"outbox_id": outbox_id, **({"saved": saved} if saved else {})})])
    actions.record_first_response(conn, settings, ticket_id, author, now)
    if echo:
        slack_cards.to_thread(conn, settings, ticket_id,
                              f"📤 *{author}* → khách / customer:\n{text[:2800]}", now)
    return Sent(outbox_id, message.ticket_ref, text)
