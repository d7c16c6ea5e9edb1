"""`switchboard` command line: the operator's view from a shell, and what scripts build on.

Global options `--config` (env SWITCHBOARD_CONFIG, default ./config.yaml) and `--db` (env
SWITCHBOARD_DATABASE_URL) work with every command. Errors: one line on stderr, exit 2."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from switchboard import bootstrap
from switchboard.cli.groups import GROUPS
from switchboard.redact import RedactingFormatter
from switchboard.settings import ConfigError, Settings
from switchboard.timefmt import local_iso, localize
from tickets import migrate as migrations
from tickets.clock import SystemClock
from tickets.database import Database


class Failure(click.ClickException):
    exit_code = 2


def _settings(ctx: click.Context) -> Settings:
    obj: dict[str, Any] = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = bootstrap.load(obj["config"], obj.get("db"))
        except ConfigError as exc:
            raise Failure(str(exc)) from None
    settings: Settings = obj["settings"]
    return settings


def _database(ctx: click.Context) -> Database:
    settings = _settings(ctx)
    try:
        db = Database.unpooled(settings.database.url)
    except ValueError as exc:
        raise Failure(str(exc)) from None
    ensure_schema(db)
    return db


def ensure_schema(db: Database) -> None:
    """Create the schema in an empty database; refuse to work on an outdated one."""
    current = migrations.current(db)
    if current is None:
        migrations.prepare(db)
    elif current != migrations.head():
        raise Failure(f"the database is at schema {current}, this version needs "
                      f"{migrations.head()}: run `switchboard migrate`")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="config file (env SWITCHBOARD_CONFIG; default ./config.yaml)")
@click.option("--db", "db", default=None,
              help="database URL (env SWITCHBOARD_DATABASE_URL), e.g. sqlite:///var/x.db")
@click.option("-v", "--verbose", is_flag=True, help="log debug detail")
@click.pass_context
def main(ctx: click.Context, config: Path | None, db: str | None, verbose: bool) -> None:
    """Switchboard: omnichannel contact-center router."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    for noisy in ("alembic", "mail.log", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    ctx.ensure_object(dict).update(config=bootstrap.config_path(str(config) if config else None),
                                   db=db)


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the database schema."""
    settings = _settings(ctx)
    db = Database.unpooled(settings.database.url)
    before = migrations.current(db)
    migrations.prepare(db)
    after = migrations.current(db)
    click.echo(f"schema {before or 'empty'} → {after}" if before != after
               else f"schema already at {after}")


@main.group("import")
def import_group() -> None:
    """Import suppliers or orders from CSV (re-importing updates rows)."""


@import_group.command("suppliers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_suppliers(ctx: click.Context, path: Path) -> None:
    """FILE.csv: supplier_id,name,aliases,emails,phones (last three |-separated)."""
    from switchboard.cli.imports import import_suppliers as run

    run(_database(ctx), path, _now(ctx))


@import_group.command("orders")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_orders(ctx: click.Context, path: Path) -> None:
    """FILE.csv: order_code,supplier_id,product,customer_phone,customer_email,amount."""
    from switchboard.cli.imports import import_orders as run

    run(_database(ctx), path, _now(ctx))


@main.command()
@click.pass_context
def classify(ctx: click.Context) -> None:
    """Classify JSON lines from stdin; one JSON line out per line in."""
    from switchboard.cli.commands import classify_lines

    settings = _settings(ctx)
    failures = classify_lines(settings, _database(ctx), sys.stdin, sys.stdout)
    if failures:
        raise Failure(f"{failures} line(s) could not be classified (see the error lines)")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, path: Path) -> None:
    """Run FILE.jsonl through the whole pipeline into tickets."""
    from switchboard.cli.commands import ingest_file

    ingest_file(_settings(ctx), _database(ctx), path, click.echo)


@main.command("ingest-eml")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--quiet", is_flag=True, help="print only the summary")
@click.pass_context
def ingest_eml(ctx: click.Context, path: Path, quiet: bool) -> None:
    """A folder of .eml files or an mbox, through the email connector into tickets."""
    from switchboard.cli.commands import ingest_eml as run

    run(_settings(ctx), _database(ctx), path, click.echo, quiet=quiet)


@main.group()
def tickets() -> None:
    """List and show tickets."""


@tickets.command("list")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.option("--status")
@click.option("--category")
@click.option("--department")
@click.option("--supplier")
@click.option("--channel")
@click.option("--sla", type=click.Choice(["none", "yellow", "red"]))
@click.option("--search", help="words (diacritics optional), a phone, an email or an order code")
@click.option("--limit", default=100, show_default=True)
@click.pass_context
def tickets_list(ctx: click.Context, as_json: bool, status: str | None, category: str | None,
                 department: str | None, supplier: str | None, channel: str | None,
                 sla: str | None, search: str | None, limit: int) -> None:
    """List tickets, newest first."""
    from tickets import queries

    settings = _settings(ctx)
    f = queries.TicketFilter(status=status, category=category, department=department,
                             supplier_id=supplier, channel=channel, sla_level=sla, text=search)
    with _database(ctx).read() as conn:
        page = queries.ticket_page(conn, settings.tickets.ref_prefix, f, limit)
    if as_json:
        for item in page.items:
            row = {k: item[k] for k in queries.TICKET_FIELDS}
            click.echo(orjson.dumps(localize(row, settings.zone)).decode())
        return
    click.echo(f"{'REF':<10} {'STATUS':<8} {'CHANNEL':<16} {'CATEGORY':<24} {'SUPPLIER':<10} "
               f"{'DEPARTMENT':<18} {'SLA':<6} {'CREATED':<16} SUBJECT")
    for t in page.items:
        kind = t["category"] + (f"/{t['topic']}" if t["topic"] else "")
        created = local_iso(t["created_at"], settings.zone)[:16].replace("T", " ")
        click.echo(f"{t['ref']:<10} {t['status']:<8} {t['channel']:<16} {kind:<24} "
                   f"{t['supplier_id'] or '-':<10} {t['department']:<18} {t['sla_level']:<6} "
                   f"{created:<16} {(t['subject'] or '')[:50]}")
    click.echo(f"({len(page.items)} of {page.total:,}{' or more' if page.more else ''})")


@tickets.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tickets_show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one ticket with its messages and journal."""
    from switchboard.cli.commands import show_ticket

    show_ticket(_settings(ctx), _database(ctx), ref, as_json, click.echo)


@main.group()
def sla() -> None:
    """SLA clocks."""


@sla.command("explain")
@click.argument("ref")
@click.pass_context
def sla_explain(ctx: click.Context, ref: str) -> None:
    """How each due time of a ticket was computed: policy, hours, pauses, holidays."""
    from sqlalchemy import select

    from switchboard.ticket_rules.sla_keeper import keeper_for
    from tickets.clock import SystemClock
    from tickets.refs import parse_ref
    from tickets.schema import tickets

    settings = _settings(ctx)
    ticket_id = parse_ref(ref)
    if ticket_id is None:
        raise click.ClickException(f"{ref!r} is not a ticket reference")
    with _database(ctx).read() as conn:
        row = conn.execute(select(tickets.c.sla).where(tickets.c.id == ticket_id)).first()
    if row is None:
        raise click.ClickException(f"no ticket {ref}")
    for line in keeper_for(settings).explain(row.sla, SystemClock().now()):
        click.echo(line)


@main.group()
def rules() -> None:
    """Try rule changes before they go live."""


@rules.command("replay")
@click.option("--since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="first day (YYYY-MM-DD, in the configured time zone)")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="last day, included (default: up to now)")
@click.option("--config", "candidate", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              help="candidate config file with the new rules (default: the current one)")
@click.option("--model", "model", type=click.Path(exists=True, dir_okay=False),
              help="a candidate text model (from `switchboard model train --out FILE`)")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=0),
              help="list at most N tickets of each kind (0: all); the summary counts all")
@click.pass_context
def rules_replay(ctx: click.Context, since: Any, until: Any, candidate: Path | None,
                 model: str | None, as_json: bool, limit: int) -> None:
    """Dry run: replay the (new) rules over past tickets and show what would change (and
    how often the candidate agrees with people's corrections). Never writes anything."""
    from switchboard.insight import replay

    settings = _settings(ctx)
    if until is not None and until.date() < since.date():
        raise click.BadParameter(f"{until.date()} is before --since {since.date()}",
                                 param_hint="--until")
    try:
        new = replay.load_candidate(candidate) if candidate else settings
    except replay.ReplayError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    if model:
        new = new.model_copy(update={"classifier": new.classifier.model_copy(update={
            "model": model})})
    try:
        db = replay.open_database(settings.database.url)
    except replay.ReplayError as exc:
        raise Failure(str(exc)) from None
    try:
        report = replay.replay(settings, new, db, since.date(),
                               until.date() if until else None,
                               str(candidate or ctx.obj["config"]))
    finally:
        db.dispose()
    shown = limit or None
    if as_json:
        for item in replay.json_lines(report, shown):
            click.echo(orjson.dumps(item).decode())
        return
    for line in replay.text_lines(report, shown):
        click.echo(line)


@main.command()
@click.option("--host", default=None, help="listen address (default from config)")
@click.option("--port", default=None, type=int, help="listen port (default from config)")
@click.option("--no-worker", is_flag=True, help="serve HTTP only; workers run elsewhere")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, no_worker: bool) -> None:
    """Run the HTTP server, the pipeline worker and the schedulers in one process."""
    from switchboard.cli.serve import run_loop
    from switchboard.cli.serve import serve as run

    settings = _settings(ctx)
    ensure_schema(Database.unpooled(settings.database.url))
    run_loop(run(settings, host=host, port=port, worker=not no_worker))


@main.command()
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run only the pipeline worker (no HTTP): for extra workers beside `serve --no-worker`."""
    from switchboard.cli.serve import run_loop, run_worker

    settings = _settings(ctx)
    ensure_schema(Database.unpooled(settings.database.url))
    run_loop(run_worker(settings))


@main.command()
@click.option("--db", "demo_db", default="sqlite:///var/demo.db", show_default=True,
              help="the demo's own database (recreated)")
@click.pass_context
def demo(ctx: click.Context, demo_db: str) -> None:
    """A five-minute tour on a throw-away database with sample data."""
    from switchboard.cli.demo import run_demo

    run_demo(_settings(ctx), demo_db, click.echo)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="one JSON object")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Backlogs and lags: inbox, workers, outbox, SLA sweeper."""
    import json as jsonlib

    from switchboard.bootstrap import make_queue
    from switchboard.insight import status as status_mod

    settings = _settings(ctx)
    queue = make_queue(settings)
    with _database(ctx).read() as conn:
        found = status_mod.gather(conn, queue, _now(ctx))
    if as_json:
        click.echo(jsonlib.dumps(found.as_dict(), ensure_ascii=False))
    else:
        for line in status_mod.render(found):
            click.echo(line)


@main.group()
def portal() -> None:
    """Accounts for the supplier portal and the managers' dashboard."""


@portal.command("add-user")
@click.argument("email")
@click.option("--name", default="", help="shown on the pages (default: the email)")
@click.option("--supplier", "supplier_id", default=None,
              help="the supplier id this person works for; without it the email must be a "
                   "manager's in agents: (role: manager)")
@click.option("--password-stdin", is_flag=True, help="read the password from stdin")
@click.pass_context
def portal_add_user(ctx: click.Context, email: str, name: str, supplier_id: str | None,
                    password_stdin: bool) -> None:
    """Create a portal user, or reset their password (their sessions end)."""
    from switchboard.desk import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = str(click.prompt("password", hide_input=True, confirmation_prompt=True))
    settings = _settings(ctx)
    try:
        with _database(ctx).write() as conn:
            user_id = accounts.add_user(conn, settings, email, name or email, password,
                                        supplier_id, _now(ctx))
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {user_id}: {email} "
               + (f"(supplier {supplier_id})" if supplier_id else "(manager)"))


@portal.command("disable-user")
@click.argument("email")
@click.pass_context
def portal_disable_user(ctx: click.Context, email: str) -> None:
    """Lock an account out at once: its sessions end."""
    from switchboard.desk import accounts

    with _database(ctx).write() as conn:
        if not accounts.disable_user(conn, email):
            raise click.ClickException(f"no portal user {email}")
    click.echo(f"disabled {email}")


def _now(ctx: click.Context) -> Any:
    return SystemClock().now()


for _command in GROUPS:
    main.add_command(_command)

if __name__ == "__main__":
    main()
