"""The router's text model: deterministic training, a file that loads back the same, the
combination with the rules (a strong rule stays decisive, weak signals and the model can
outvote one weak keyword), its opinion in `classify`'s answer, a retrained file picked up
without a restart, and the shipped model checked against its data."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from router import Classifier, Context
from router.classify import STRONG
from router.model import TextModel
from switchboard.cli import model_training
from switchboard.cli.model import _classifier
from switchboard.settings import RuleSettings, Settings
from switchboard.ticket_rules.classification import ClassifierCache, model_path
from tickets.database import Database

ROOT = Path(__file__).resolve().parent.parent


def small_data(tmp_path: Path) -> Path:
    """The two development sets as training data, a fifth held out by id."""
    data = tmp_path / "data"
    data.mkdir()
    held = []
    with (data / "devsets.jsonl").open("w", encoding="utf-8") as out:
        for prefix, name in (("devA", "classify"), ("devC", "classify2")):
            path = ROOT / "tests" / "data" / name / "devset.jsonl"
            for line in path.read_text(encoding="utf-8").splitlines():
                x = json.loads(line)
                x["id"] = f"{prefix}-{x['id']}"
                out.write(json.dumps(x, ensure_ascii=False) + "\n")
                if int(hashlib.sha256(x["id"].encode()).hexdigest(), 16) % 5 == 0:
                    held.append(x["id"])
    (data / "split.json").write_text(json.dumps({"held_out": held}), encoding="utf-8")
    return data


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from switchboard.settings import load_settings

    tmp = tmp_path_factory.mktemp("model")
    data = small_data(tmp)
    settings = load_settings(ROOT / "config.yaml", environ={"SWITCHBOARD_SECRET": "x"})
    training, _ = model_training.load(data)
    first, second = tmp / "a.npz", tmp / "b.npz"
    model_training.train(_classifier(settings, None), training).save(first)
    model_training.train(_classifier(settings, None), training).save(second)
    return first, second


def test_training_is_deterministic_and_the_file_loads_back(trained: tuple[Path, Path]
                                                           ) -> None:
    first, second = trained
    assert first.read_bytes() == second.read_bytes()
    model = TextModel.load(first)
    assert model.meta["examples"] > 500 and len(model.labels) == 8
    assert first.stat().st_size < 20 * 1024 * 1024
    again = tmp = first.with_name("c.npz")
    model.save(tmp)
    assert again.read_bytes() == first.read_bytes()


def test_the_model_joins_the_rules(trained: tuple[Path, Path], settings: Settings) -> None:
    model = TextModel.load(trained[0])
    with_model = _classifier(settings, model)

    def decide(c: Classifier, text: str) -> tuple[str, float]:
        got = c.classify(c.prepare(text), Context("zalo"))
        return got.category, got.confidence

    # words the rules do not know, that the labelled messages taught the model
    text = "Giao hàng lâu quá, đặt từ tuần trước mà giờ vẫn chưa thấy shipper đâu"
    assert decide(with_model, text)[0] == "service"
    got = with_model.classify(with_model.prepare(text), Context("zalo"))
    assert got.model is not None and got.model.terms and got.topic == "delivery"
    # a strong rule (weight 5 and more) stays decisive whatever the model thinks: here a
    # manager sends slow-delivery messages about one bakery to its supplier, as law
    law = RuleSettings(name="bakery_law", category="supplier", weight=5,
                       keywords=("giao hàng lâu",))
    with_law = _classifier(settings.model_copy(update={"rules": (*settings.rules, law)}),
                           model)
    assert decide(with_law, text)[0] == "supplier"
    assert 0.0 <= decide(with_law, text)[1] <= 1.0
    # the shipped rules are keyword lists, none of them law: the model weighs them
    assert all(r.weight < STRONG for r in settings.rules)
    question = "Cho mình hỏi buffet có phụ thu ngày lễ không ạ, có xuất hóa đơn VAT không?"
    assert "supplier_extra_charge" in with_model.classify(with_model.prepare(question),
                                                          Context("zalo")).rules
    assert decide(with_model, question)[0] == "inquiry"


def test_batches_and_caches_read_exactly_as_one_by_one(trained: tuple[Path, Path],
                                                      settings: Settings) -> None:
    """The fast paths (row caches, `predict_many`, `classify_many`) are only speed: the
    same rows, probabilities and answers as the feature strings read one message at a
    time, for texts the caches have and have not seen (typos, English, empty)."""
    from router.model import features

    model = TextModel.load(trained[0])
    classifier = _classifier(settings, model)
    texts = [json.loads(line)["text"] for line in
             (ROOT / "tests/data/classify/devset.jsonl").read_text("utf-8").splitlines()
             if line.strip()][:120]
    texts += ["", "!!!", "giao hàg chậmmmm qá", "Refund my money please", "ko nhan dc hang"]
    prepared = [classifier.prepare(t) for t in texts]
    for p in prepared:
        assert model.rows_of(p.text).tolist() == model._rows(features(p.text)).tolist()
        assert model.rows_of(p.text).tolist() == model.rows_of(p.text).tolist()  # cached
    one_by_one = [model.predict(p.text) for p in prepared]
    batch = model.predict_many([p.text for p in prepared])
    for a, b in zip(one_by_one, batch, strict=True):
        assert a.label == b.label
        assert max(abs(a.probabilities[k] - b.probabilities[k]) for k in a.probabilities) < 1e-5
    contexts = [Context("zalo") for _ in prepared]
    singles = [classifier.classify(p, c) for p, c in zip(prepared, contexts, strict=True)]
    batched = classifier.classify_many(list(zip(prepared, contexts, strict=True)))

    def seen(c: Any) -> tuple[Any, ...]:
        opinion = (c.model.category, c.model.probability) if c.model else None
        return (dataclasses.replace(c, model=None), opinion)

    assert [seen(c) for c in batched] == [seen(c) for c in singles]


def test_a_retrained_file_is_picked_up_without_a_restart(
        trained: tuple[Path, Path], settings: Settings, db: Database, tmp_path: Path) -> None:
    live = tmp_path / "live.npz"
    live.write_bytes(trained[0].read_bytes())
    configured = settings.model_copy(update={"classifier": settings.classifier.model_copy(
        update={"model": str(live)})})
    assert model_path(configured) == live
    cache = ClassifierCache(configured, recheck_seconds=0)
    with db.read() as conn:
        before = cache.get(conn)
        assert before.model is not None
        assert cache.get(conn) is before  # nothing changed: the same classifier
        stat = live.stat()
        os.utime(live, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        after = cache.get(conn)
    assert after is not before and after.model is not None


def test_the_shipped_model_matches_its_data() -> None:
    """`make model` rebuilds router/model.npz; this fails when the data changed without it."""
    shipped = ROOT / "router" / "model.npz"
    if not (ROOT / "router" / "training_data" / "split.json").exists():
        pytest.skip("no training data in this checkout")
    assert shipped.exists(), "router/model.npz is missing: run `make model`"
    training, _ = model_training.load()
    assert TextModel.load(shipped).meta["data_hash"] == model_training.data_hash(training), \
        "the training data changed since router/model.npz was built: run `make model`"
