"""`switchboard corrections export [--since DATE] [--out FILE]`: people's corrections of the
router as labelled JSON lines, in the development sets' own format (`{"id", "channel",
"text", "expected": {"category", "topic", "supplier_id"}}` plus what the router said and
who corrected it), so that `benchmarks/classify_accuracy.py FILE` scores the current rules
against what people decided, and a model can be trained on them."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from tickets import corrections


@click.group("corrections")
def corrections_group() -> None:
    """People's corrections of the router: the labelled examples it learns from."""


@corrections_group.command("export")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="only corrections from this day on (in the configured zone)")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="a file instead of stdout")
@click.pass_context
def export(ctx: click.Context, since: datetime | None, out: Path | None) -> None:
    """One JSON line per corrected ticket (its latest correction), oldest first."""
    from switchboard.cli.main import _database, _settings

    settings, db = _settings(ctx), _database(ctx)
    start = since.replace(tzinfo=settings.zone) if since else None
    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    count = 0
    try:
        with db.read() as conn:
            for line in corrections.examples(conn, start):
                stream.write(json.dumps(line, ensure_ascii=False) + "\n")
                count += 1
    finally:
        if out:
            stream.close()
    click.echo(f"{count} correction(s)", err=True)
