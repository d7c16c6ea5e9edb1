"""`switchboard answer [--knowledge FILE]`: the bot's decision for each JSON line on stdin
(the lines `classify` reads), one JSON line out per line in:

    {"id", "action": "answer"|"handover", "kind": "faq"|"order_status"|null, "faq_id",
     "order_code", "text", "confidence", "reason"}

It is the very decision the pipeline makes for a new ticket — the same classifier, the same
knowledge, the writer's own orders as the database knows them — without writing anything.
`text` is what the customer would read (null for a handover)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import IO

import click
import orjson

from router import Normalizer
from switchboard.cli.commands import contacts_of, message_lines
from switchboard.pipeline import bot
from switchboard.pipeline.context import Context
from switchboard.pipeline.runner import Pipeline
from switchboard.settings import Settings
from switchboard.ticket_rules.classification import gather_context, sender_supplier
from switchboard.ticket_rules.knowledge_file import KnowledgeError, KnowledgeFile
from tickets.catalog import orders_for_contacts
from tickets.clock import SystemClock
from tickets.database import Database
from tickets.identities import sender_identity


@click.command("answer")
@click.option("--knowledge", "knowledge", type=click.Path(exists=True, dir_okay=False,
                                                           path_type=Path),
              help="a knowledge file instead of the configured one")
@click.pass_context
def answer(ctx: click.Context, knowledge: Path | None) -> None:
    """What the bot would answer to JSON lines from stdin; one JSON line out per line in."""
    from switchboard.cli.main import Failure, _database, _settings

    settings = _settings(ctx)
    try:
        kb = KnowledgeFile(knowledge, Normalizer(settings.teencode)) if knowledge else None
        failures = answer_lines(settings, _database(ctx), sys.stdin, sys.stdout, kb)
    except KnowledgeError as exc:
        raise Failure(str(exc)) from None
    if failures:
        raise Failure(f"{failures} line(s) could not be read (see the error lines)")


def answer_lines(settings: Settings, db: Database, lines: IO[str], out: IO[str],
                 knowledge: KnowledgeFile | None = None) -> int:
    pipeline = Pipeline(settings, db, SystemClock())
    ctx = pipeline.context
    if knowledge is not None:
        ctx = _with(ctx, knowledge)
    bad: list[int] = []
    with db.read() as conn:
        classifier = ctx.classifiers.get(conn)
        for message in message_lines(lines, settings.tickets.max_text_chars, out, bad):
            kind, value = sender_identity(message.channel, message.sender)
            supplier = sender_supplier(classifier, kind, value)
            bought = orders_for_contacts(conn, *contacts_of(conn, kind, value))
            prepared = classifier.prepare(message.text, message.subject)
            result = classifier.classify(prepared, gather_context(
                conn, prepared, message.channel, supplier, bought))
            mode = settings.bot.mode(message.channel)
            if ctx.knowledge is None or mode == "off" or supplier is not None:
                out.write(orjson.dumps({"id": message.id, "action": "handover", "kind": None,
                                        "faq_id": None, "order_code": None, "text": None,
                                        "confidence": 0.0, "reason": "bot_off"}).decode()
                          + "\n")
                continue
            chosen = bot.consult(ctx, conn, message.text, message.channel, bought, prepared,
                                 result, mode)
            text = bot.render(ctx, chosen, bot.language_of(message.text)) \
                if chosen.action == "answer" else None
            out.write(orjson.dumps({
                "id": message.id, "action": chosen.action, "kind": chosen.kind,
                "faq_id": chosen.faq_id, "order_code": chosen.order_code, "text": text,
                "confidence": round(chosen.confidence, 3), "reason": chosen.reason,
            }).decode() + "\n")
    return len(bad)


def _with(ctx: Context, knowledge: KnowledgeFile) -> Context:
    return dataclasses.replace(ctx, knowledge=knowledge)
