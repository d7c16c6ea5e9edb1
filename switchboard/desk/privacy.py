"""Erasing a person (an admin's act, from the CLI or the API) and keeping the record of who
looked at whose data.

The store does the erasure (`tickets.erasure`); this adds what lives outside the database
rows, in the same transaction so that a failure leaves everything as it was: the stored
files only they used are removed, the lines their messages left in Slack threads are
edited, the tickets' cards are redrawn from the anonymous rows. After the commit the
database's own files are scrubbed (`Database.scrub_free_space`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from switchboard.desk import slack_cards
from switchboard.settings import Settings
from tickets import erasure, personal_data, search_index
from tickets.database import Database

log = logging.getLogger("switchboard.privacy")
# what an erasure writes to: the tables PostgreSQL vacuums afterwards
TOUCHED = ("customers", "identities", "merge_suggestions", "orders", "tickets", "messages",
           "ticket_participants", "journal", "outbox", "proposals", "inbox")


@dataclass(frozen=True, slots=True)
class Erased:
    erasure: erasure.Erasure
    files_removed: int
    scrubbed: str  # what was done to the database's files


def erase(db: Database, settings: Settings, customer_id: int, actor: str, via: str,
          reason: str, now: datetime) -> Erased | None:
    """Erase the person; None when there is no such customer. Running it again is
    harmless: nothing is left to find, and the log says it ran twice."""
    with db.write() as conn:
        done = erasure.erase_customer(conn, customer_id, actor, via, reason, now)
        if done is None:
            return None
        removed = outside_rows(conn, settings, done, now)
        search_index.purge(conn)  # the search index's pages forget their words too
    scrubbed = db.scrub_free_space(TOUCHED, full=settings.privacy.vacuum_full)
    log.info("customer #%d erased by %s via %s: %s", done.customer_id, actor, via,
             done.summary())
    return Erased(done, removed, scrubbed)


def outside_rows(conn: Connection, settings: Settings, done: erasure.Erasure,
                 now: datetime) -> int:
    """What an erasure or an anonymisation changes beyond the rows: Slack's copies edited,
    cards redrawn, files removed (their count)."""
    for ticket_id, post_id, ts in done.slack_lines:
        slack_cards.blank_line(conn, settings, ticket_id, post_id, ts, now)
    for ticket_id in done.tickets:
        slack_cards.refresh_card(conn, settings, ticket_id, now)
    return remove_files(done.files, stores(settings))


def stores(settings: Settings) -> list[Path]:
    """The folders Switchboard keeps files in: nothing outside them is ever removed."""
    return [Path(settings.email.attachments.dir), Path(settings.email.raw_dir)]


def remove_files(paths: Iterable[str], roots: Iterable[Path]) -> int:
    """Remove the files (before the commit: should it fail, the rows still name them and a
    second run finds them again; should it succeed, nothing names them any more)."""
    resolved_roots = [r.resolve() for r in roots]
    removed = 0
    for name in paths:
        path = Path(name).resolve()
        if not any(path.is_relative_to(root) for root in resolved_roots):
            log.warning("not removing %s: outside the file stores", name)
            continue
        try:
            os.unlink(path)
            removed += 1
        except FileNotFoundError:
            continue
    return removed


def record(db: Database, actor: str, via: str, action: str, customer_id: int | None,
           now: datetime, **detail: Any) -> None:
    """Who read whose data (a profile, an export, a ticket shown to a supplier)."""
    with db.write() as conn:
        personal_data.log(conn, actor, via, action, customer_id, now, detail)
