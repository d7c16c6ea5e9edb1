"""Where each IMAP folder was read up to: UIDVALIDITY and the last UID taken.

Saved only after the mail it covers is in the inbox, so a restart re-reads at most the
mail that was being taken (and the dedup key makes that a no-op). A new UIDVALIDITY means
the server renumbered the folder: the poller starts over and relies on the dedup key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from tickets.schema import mail_state


def load(conn: Connection, mailbox: str, folder: str) -> tuple[int, int] | None:
    row = conn.execute(select(mail_state.c.uidvalidity, mail_state.c.last_uid).where(
        mail_state.c.mailbox == mailbox, mail_state.c.folder == folder)).first()
    return None if row is None else (int(row.uidvalidity), int(row.last_uid))


def save(conn: Connection, mailbox: str, folder: str, uidvalidity: int, last_uid: int,
         now: datetime) -> None:
    changed = conn.execute(update(mail_state).where(
        mail_state.c.mailbox == mailbox, mail_state.c.folder == folder).values(
        uidvalidity=uidvalidity, last_uid=last_uid, updated_at=now)).rowcount
    if not changed:
        conn.execute(mail_state.insert().values(mailbox=mailbox, folder=folder,
                                                uidvalidity=uidvalidity, last_uid=last_uid,
                                                updated_at=now))
