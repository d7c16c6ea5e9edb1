"""Macros: a named list of actions an agent runs in one go ("apologise for the late
delivery, wait on the carrier, raise the priority"), from the API or Slack's `/macro`.

Each action is the same desk action a person would take by hand, journaled the same way
(a saved reply, a status or waiting-on, reclassify, transfer, hand to the supplier,
priority, tag), all in the caller's transaction: the first that cannot be done (a saved
reply missing a variable, a supplier the ticket does not have) undoes the others, and the
refusal names the step. The macros live in `config.yaml` (`macros:`), checked at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, select

from switchboard.desk import actions, answer, slack_cards
from switchboard.desk.actions import ActionRefused
from switchboard.outbox.compose import CannotReply
from switchboard.outbox.saved_replies import ReplyError, SavedReplies
from switchboard.settings import MacroSettings, Settings
from tickets import store
from tickets.schema import tickets
from tickets.store import JournalEntry


class MacroRefused(ActionRefused):
    """Nothing was done: the step that could not be, and why (the caller rolls back)."""


def find(settings: Settings, name: str) -> MacroSettings:
    for macro in settings.macros:
        if macro.name == name:
            return macro
    raise MacroRefused(f"no macro {name!r} (known: "
                       f"{', '.join(m.name for m in settings.macros) or 'none'})")


def run(conn: Connection, settings: Settings, secret: bytes, replies: SavedReplies | None,
        ticket_id: int, name: str, actor: str, now: datetime) -> list[str]:
    """Run macro `name` on the ticket; what each step did. Raises MacroRefused (the caller's
    transaction must then be rolled back: nothing of the macro stays)."""
    macro = find(settings, name)
    done: list[str] = []
    for number, step in enumerate(macro.actions, start=1):
        try:
            done.append(_step(conn, settings, secret, replies, ticket_id, step, actor, now))
        except (ActionRefused, ReplyError, CannotReply) as exc:
            raise MacroRefused(f"step {number} ({_describe(step)}): {exc}") from None
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "macro", f"{actor} ran macro {name}: " + "; ".join(done), actor=actor,
        data={"macro": name})])
    slack_cards.refresh_card(conn, settings, ticket_id, now)
    return done


def as_action(conn: Connection, settings: Settings, secret: bytes,
              replies: SavedReplies | None, ticket_id: int, name: str, actor: str,
              now: datetime) -> actions.Done:
    """`run` as one of the card's actions: in a savepoint, so a refused macro leaves nothing
    while the caller's transaction (which remembers the Slack action) commits."""
    with conn.begin_nested():
        steps = run(conn, settings, secret, replies, ticket_id, name, actor, now)
    return actions.Done(ticket_id, f"macro {name}: " + "; ".join(steps))


def _step(conn: Connection, settings: Settings, secret: bytes, replies: SavedReplies | None,
          ticket_id: int, step: Mapping[str, str], actor: str, now: datetime) -> str:
    kind, value = next(iter(step.items()))
    if kind == "reply":
        sent = answer.send(conn, settings, secret, ticket_id, actor, now, saved=value,
                           replies=replies)
        return f"saved reply {value} sent (outbox {sent.outbox_id})"
    if kind == "status":
        if value == "resolved":
            return actions.resolve(conn, settings, ticket_id, actor, now, secret).summary
        return actions.set_status(conn, settings, ticket_id, value, actor, now).summary
    if kind == "reclassify":
        category, _, topic = value.partition("/")
        return actions.reclassify(conn, settings, ticket_id, category, topic or None, actor,
                                  now, via="macro").summary
    if kind == "transfer":
        return actions.transfer(conn, settings, ticket_id, value, actor, now).summary
    if kind == "hand_to_supplier":
        return actions.hand_to_supplier(conn, settings, ticket_id, actor, now).summary
    if kind == "priority":
        return actions.set_priority(conn, ticket_id, value, actor, now).summary
    if kind == "tag":
        return _tag(conn, ticket_id, value, actor, now)
    raise ActionRefused(f"unknown action {kind}")  # settings refuse these at start


def _tag(conn: Connection, ticket_id: int, tag: str, actor: str, now: datetime) -> str:
    tags = list(conn.execute(select(tickets.c.tags).where(tickets.c.id == ticket_id))
                .scalar() or [])
    if tag in tags:
        return f"already tagged {tag}"
    store.update_ticket(conn, ticket_id, {"tags": [*tags, tag], "updated_at": now})
    store.append_journal(conn, ticket_id, now, [JournalEntry(
        "tagged", f"{actor} tagged it {tag}", actor=actor, data={"tag": tag})])
    return f"tagged {tag}"


def _describe(step: Mapping[str, str]) -> str:
    kind, value = next(iter(step.items()))
    return kind if kind == "hand_to_supplier" else f"{kind} {value}"
