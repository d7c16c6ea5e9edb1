"""Training and measuring the router's text model (router/model.py).

The data are the labelled JSON lines under `router/training_data/` (SOURCES.md says where
each comes from), optionally with people's corrections from the database. `split.json`
holds out a fifth of them, chosen by a hash of their ids, that training never sees: the
held-out figures are honest. Of the rest, a seventh (again by hash) is first kept aside to
fit the temperature and the rules/model mix, then the model is fitted on everything.

Deterministic: the same data give the same file (sorted inputs, a fixed solver, no
randomness, no timestamps in the file). scikit-learn is needed here only; the server and
`classify` read the file with numpy."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from router import CATEGORIES, TOPICS, Classifier, Context
from router.model import LABELS, SCORE, TextModel, features, label_of
from router.rules import Evaluation
from router.text import Normalized

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "router" / "training_data"
MODEL = ROOT / "router" / "model.npz"
C = 16.0  # inverse regularisation, chosen by cross-validation on the training split
SCORE_SCALE = 0.05  # a rules' score of 1 weighs as much as one of 20 words (chosen likewise)
TEMPERATURES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
MIXES = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    channel: str
    text: str
    label: str
    source: str


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def examples_of(lines: Iterable[dict[str, Any]], source: str) -> list[Example]:
    found = []
    for x in lines:
        expected = x.get("expected") or {}
        category = expected.get("category")
        if not category or not x.get("text"):
            continue
        text = f"{x['subject']}\n{x['text']}" if x.get("subject") else str(x["text"])
        found.append(Example(str(x["id"]), str(x.get("channel") or "api"), text,
                             label_of(str(category), expected.get("topic")),
                             str(x.get("source") or source)))
    return found


def load(data: Path = DATA, extra: Sequence[Example] = ()) -> tuple[list[Example],
                                                                     list[Example]]:
    """(training, held-out), each sorted by id; `extra` (corrections) always trains."""
    held = set(json.loads((data / "split.json").read_text(encoding="utf-8"))["held_out"])
    every = [e for path in sorted(data.glob("*.jsonl"))
             for e in examples_of(read_lines(path), path.stem)]
    train = sorted([e for e in every if e.id not in held] + list(extra), key=lambda e: e.id)
    return train, sorted([e for e in every if e.id in held], key=lambda e: e.id)


def data_hash(examples: Sequence[Example]) -> str:
    h = hashlib.sha256()
    for e in sorted(examples, key=lambda e: e.id):
        h.update(f"{e.id}\t{e.label}\t{e.text}\n".encode())
    return h.hexdigest()[:16]


def _fold(example_id: str, modulus: int) -> int:
    return int(hashlib.sha256(example_id.encode()).hexdigest(), 16) % modulus


SCORED = (*CATEGORIES, *(f"service/{t}" for t in TOPICS))  # the model's `s:` features


def _evaluated(classifier: Classifier, examples: Sequence[Example]
               ) -> Iterator[tuple[Normalized, Evaluation]]:
    """Each example's text as the router reads it, and what the rules alone make of it."""
    for e in examples:
        prepared = classifier.prepare(e.text)
        yield prepared.text, classifier.rules.evaluate(
            prepared.text, prepared.text.original,
            classifier.signals(prepared, Context(e.channel)))


def _rules_scores(classifier: Classifier, examples: Sequence[Example]
                  ) -> list[dict[str, float]]:
    """What the rules alone score each example, per category and per service topic."""
    return [{**evaluation.scores,
             **{f"service/{t}": v for t, v in evaluation.topic_scores.items()}}
            for _, evaluation in _evaluated(classifier, examples)]


def _matrix(classifier: Classifier, examples: Sequence[Example],
            vocabulary: dict[str, int] | None) -> tuple[Any, list[str]]:
    """Words (each present one counting 1/sqrt(n)) and, after them, the rules' score per
    category and per service topic times SCORE_SCALE."""
    from scipy.sparse import csr_matrix

    rows = [features(classifier.normalizer(e.text)) for e in examples]
    if vocabulary is None:
        seen = Counter(f for row in rows for f in row)
        names = sorted(f for f, n in seen.items() if n >= 2)
        names += [SCORE + c for c in SCORED]
        vocabulary = {f: i for i, f in enumerate(names)}
    score_columns = [vocabulary[SCORE + c] for c in SCORED]
    indptr, indices, values = [0], [], []
    for row, scores in zip(rows, _rules_scores(classifier, examples), strict=True):
        ids = sorted(i for i in map(vocabulary.get, row) if i is not None)
        indices += ids
        values += [1.0 / math.sqrt(len(ids))] * len(ids) if ids else []
        for column, name in zip(score_columns, SCORED, strict=True):
            if scores.get(name):
                indices.append(column)
                values.append(SCORE_SCALE * scores[name])
        indptr.append(len(indices))
    matrix = csr_matrix((np.array(values), np.array(indices, dtype=np.int64),
                         np.array(indptr, dtype=np.int64)),
                        shape=(len(rows), len(vocabulary)))
    return matrix, sorted(vocabulary, key=lambda f: vocabulary[f])


def _fit(classifier: Classifier, examples: Sequence[Example]) -> TextModel:
    from sklearn.linear_model import LogisticRegression

    matrix, names = _matrix(classifier, examples, None)
    y = np.array([LABELS.index(e.label) for e in examples])
    fitted = LogisticRegression(C=C, max_iter=3000, class_weight="balanced", tol=1e-6)
    fitted.fit(matrix, y)
    weights = np.zeros((len(names), len(LABELS)), dtype=np.float32)
    bias = np.zeros(len(LABELS), dtype=np.float32)
    for k, label_index in enumerate(fitted.classes_):
        weights[:, label_index] = fitted.coef_[k]
        bias[label_index] = fitted.intercept_[k]
    missing = [i for i in range(len(LABELS)) if i not in set(fitted.classes_)]
    bias[missing] = -30.0  # a label with no example is never predicted
    return TextModel(names, weights, bias, LABELS, meta={"score_scale": SCORE_SCALE})


def train(classifier: Classifier, examples: Sequence[Example]) -> TextModel:
    """Fit on all but the calibration fold, choose temperature and mix there, refit on all."""
    calibration = [e for e in examples if _fold(e.id, 7) == 0]
    first = _fit(classifier, [e for e in examples if _fold(e.id, 7) != 0])
    temperature, mix = _calibrate(classifier, first, calibration)
    model = _fit(classifier, examples)
    model.temperature, model.mix = temperature, mix
    counts = Counter(e.label for e in examples)
    model.meta.update({"data_hash": data_hash(examples), "examples": len(examples),
                       "labels": dict(sorted(counts.items())), "C": C,
                       "temperature": temperature, "mix": mix,
                       "features": len(model.vocabulary),
                       "sources": dict(sorted(Counter(e.source for e in examples).items()))})
    return model


def _calibrate(classifier: Classifier, model: TextModel, examples: Sequence[Example]
               ) -> tuple[float, float]:
    """The temperature and mix with the lowest log-loss of the combined category."""
    cases = []
    for e, (text, evaluation) in zip(examples, _evaluated(classifier, examples), strict=True):
        scores = evaluation.scores
        logits = model.logits(features(text), scores, evaluation.topic_scores)
        cases.append((logits, scores, e.label.split("/")[0]))
    best = (math.inf, 1.0, 1.0)
    categories = sorted({label.split("/")[0] for label in LABELS})
    for t in TEMPERATURES:
        for mix in MIXES:
            loss = 0.0
            for logits, scores, truth in cases:
                p = np.exp(logits / t - (logits / t).max())
                p /= p.sum()
                per = {c: 0.0 for c in categories}
                for label, value in zip(LABELS, p, strict=True):
                    per[label.split("/")[0]] += float(value)
                combined = {c: math.log(per[c] + 1e-6) + mix * scores.get(c, 0.0)
                            for c in categories}
                top = max(combined.values())
                norm = math.log(sum(math.exp(v - top) for v in combined.values())) + top
                loss -= combined[truth] - norm
            if loss < best[0]:
                best = (loss, t, mix)
    return best[1], best[2]
