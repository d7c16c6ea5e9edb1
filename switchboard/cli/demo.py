"""`switchboard demo`: a five-minute tour on a throw-away database.

It imports a small catalog, runs ten messages from seven channels through the whole
pipeline, and shows what a support team would see: the ticket list, one ticket's story,
the classifier on a new message, and where to go next.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from switchboard.cli.commands import classify_lines, ingest_file, show_ticket
from switchboard.cli.imports import import_orders, import_suppliers
from switchboard.settings import Settings
from tickets import migrate, queries
from tickets.clock import SystemClock
from tickets.database import Database, normalize_url

DATA = Path(__file__).parent / "demo_data"


def _fresh(url: str) -> Database:
    db = Database.unpooled(url)
    if db.is_sqlite:
        path = Path(db.engine.url.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    migrate.upgrade(db)
    return db


def run_demo(settings: Settings, url: str, echo: Callable[[str], None]) -> None:
    settings = settings.model_copy(update={"database": settings.database.model_copy(
        update={"url": url})})
    db = _fresh(normalize_url(url))
    now = SystemClock().now()
    echo(f"== 1. A fresh database at {url}, with the marketplace's catalog ==")
    import_suppliers(db, DATA / "suppliers.csv", now)
    import_orders(db, DATA / "orders.csv", now)
    echo("")
    echo("== 2. Ten messages from seven channels go through the pipeline ==")
    echo("   (dedup → identify → classify → thread → route → journal, one transaction each)")
    ingest_file(settings, db, DATA / "messages.jsonl", lambda line: echo("   " + line))
    echo("")
    echo("== 3. What the support team sees: `switchboard tickets list` ==")
    with db.read() as conn:
        items, _ = queries.list_tickets(conn, settings.tickets.ref_prefix, queries.TicketFilter())
    for t in items:
        kind = t["category"] + (f"/{t['topic']}" if t["topic"] else "")
        supplier = t["supplier_id"] or "-"
        echo(f"   {t['ref']:<6} {t['channel']:<17} {kind:<19} supplier={supplier:<11}"
             f" → {t['department']}")
    echo("")
    echo("== 4. One ticket's whole story: `switchboard tickets show MC-4` ==")
    echo("   (the Telegram customer wrote twice; the second message joined the first ticket)")
    show_ticket(settings, db, f"{settings.tickets.ref_prefix}-4", False,
                lambda line: echo("   " + line))
    echo("")
    echo("== 5. The rules engine alone: `switchboard classify` ==")
    sample = ('{"id": "try-1", "channel": "zalo", "from": "0912 345 678", '
              '"text": "buffet Sen Tay Ho bat phu thu 50k/nguoi, nhan vien thai do lam"}\n')
    out = io.StringIO()
    classify_lines(settings, db, io.StringIO(sample), out)
    echo("   in:  " + sample.strip())
    echo("   out: " + out.getvalue().strip())
    echo("")
    echo("== Next ==")
    echo("   make run              # serve the API on http://127.0.0.1:8080 (docs: /docs)")
    echo("   export SWITCHBOARD_ADMIN_TOKEN=change-me   # before `make run`, to open the API")
    echo("   curl -H 'Authorization: Bearer change-me' http://127.0.0.1:8080/api/tickets")
    echo(f"   switchboard --db {url} tickets list   # look around this demo database")
    db.dispose()
