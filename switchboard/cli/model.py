"""`switchboard model train|evaluate|show`: the router's text model (router/model.py).

* `train [--data DIR] [--out FILE] [--with-corrections] [--force]` fits the model on the
  labelled lines (router/training_data/ by default) and, with `--with-corrections`, on
  people's corrections in the database; the same data give the same file. A model whose
  held-out category accuracy is worse than the current file's is refused unless `--force`.
* `evaluate [FILE]` prints accuracy, macro-F1, the confusion matrix and the reliability
  table, rules alone and rules with the model, on the held-out split and every labelled set
  in the repository.
* `show [FILE]` prints the data hash, the size and each label's strongest words."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from router import Classifier, SupplierEntry
from router.model import SCORE, TextModel
from switchboard.cli.model_report import describe, score
from switchboard.cli.model_training import DATA, MODEL, ROOT, Example, examples_of, load
from switchboard.cli.model_training import read_lines as _read
from switchboard.cli.model_training import train as fit
from switchboard.settings import Settings
from switchboard.ticket_rules.classification import build_classifier
from tickets import catalog, corrections
from tickets.database import Database

SETS = (ROOT / "tests" / "data" / "classify" / "devset.jsonl",
        ROOT / "tests" / "data" / "classify2" / "devset.jsonl")


@click.group("model")
def model_group() -> None:
    """The statistical text model beside the rules."""


def _classifier(settings: Settings, model: TextModel | None) -> Classifier:
    """The configured rules with the development sets' suppliers, and `model` (or none)."""
    rows = {r.supplier_id: r for path in SETS
            for r in catalog.parse_suppliers(path.parent / "suppliers.csv")}
    suppliers = [SupplierEntry(r.supplier_id, r.name, r.aliases, r.emails, r.phones)
                 for r in rows.values()]
    rules_only = build_classifier(settings.model_copy(update={
        "classifier": settings.classifier.model_copy(update={"model": "off"})}), suppliers)
    if model is None:
        return rules_only
    return Classifier(rules_only.normalizer, rules_only.extractor, rules_only.catalog,
                      rules_only.rules, rules_only.settings, model)


@model_group.command("train")
@click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path),
              default=DATA, show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              default=MODEL, show_default=True)
@click.option("--with-corrections", is_flag=True, help="people's corrections train too")
@click.option("--force", is_flag=True, help="keep a model worse than the current one")
@click.pass_context
def train(ctx: click.Context, data: Path, out: Path, with_corrections: bool,
          force: bool) -> None:
    """Fit the model (deterministic) and write it."""
    from switchboard.cli.main import Failure, _database, _settings

    settings = _settings(ctx)
    extra: list[Example] = []
    if with_corrections:
        db: Database = _database(ctx)
        with db.read() as conn:
            extra = examples_of(corrections.examples(conn), "corrections")
    training, held_out = load(data, extra)
    base = _classifier(settings, None)
    model = fit(base, training)
    new = score(_classifier(settings, model), "held-out", held_out)
    if out.exists() and not force:
        old = score(_classifier(settings, TextModel.load(out)), "held-out", held_out)
        if new.accuracy < old.accuracy:
            raise Failure(f"the new model is worse on the held-out split ({new.accuracy:.1%} "
                          f"against {old.accuracy:.1%}): not written (--force to keep it)")
    model.save(out)
    click.echo(f"{out}: {len(training)} examples ({len(extra)} corrections), "
               f"{len(model.vocabulary)} features, data {model.meta['data_hash']}; "
               f"held-out category {new.accuracy:.1%} (macro-F1 {new.macro_f1():.3f})")


@model_group.command("evaluate")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path))
@click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path),
              default=DATA, show_default=True, help="whose held-out split to score")
@click.pass_context
def evaluate(ctx: click.Context, path: Path | None, data: Path) -> None:
    """Rules alone and rules with the model, on the held-out split and the labelled sets."""
    from switchboard.cli.main import _settings

    settings = _settings(ctx)
    model = TextModel.load(path or MODEL)
    _, held_out = load(data)
    sets: list[tuple[str, list[Example]]] = [("held-out split", held_out)]
    sets += [(str(p.relative_to(ROOT)), examples_of(_read(p), p.stem)) for p in SETS]
    sources = sorted({e.source for e in held_out})
    for name, classifier in (("rules alone", _classifier(settings, None)),
                             ("rules + model", _classifier(settings, model))):
        click.echo(f"== {name} ==")
        for label, examples in sets:
            for line in describe(score(classifier, label, examples)):
                click.echo(line)
        click.echo("held-out split by source (real text, the project's sets, written here):")
        for source in sources:  # most hold one or two labels: accuracy says it all
            part = score(classifier, source, [e for e in held_out if e.source == source])
            click.echo(f"  {source}: {part.total} messages; category {part.accuracy:.1%}")


@model_group.command("show")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path))
@click.option("--terms", default=12, show_default=True)
def show(path: Path | None, terms: int) -> None:
    """The model's data hash, size and each label's strongest words."""
    model = TextModel.load(path or MODEL)
    meta = model.meta
    click.echo(f"data {meta.get('data_hash')}: {meta.get('examples')} examples, "
               f"{len(model.vocabulary)} features; temperature {model.temperature}, "
               f"mix {model.mix}; labels {meta.get('labels')}; sources {meta.get('sources')}")
    words = [i for i, f in enumerate(model.vocabulary) if not f.startswith(("c:", SCORE))]
    for k, label in enumerate(model.labels):
        column = model.weights[words, k]
        top = [model.vocabulary[words[i]][2:].replace("_", " ")
               for i in np.argsort(-column)[:terms]]
        click.echo(f"{label:<20} {', '.join(top)}")
    scored = [i for i, f in enumerate(model.vocabulary) if f.startswith(SCORE)]
    if scored:
        click.echo("the rules' scores, as the model learned to weigh them (per label: "
                   + ", ".join(model.labels) + ")")
        for i in scored:
            click.echo(f"  {model.vocabulary[i][len(SCORE):]:<20} "
                       + " ".join(f"{w:+.1f}" for w in model.weights[i]))
