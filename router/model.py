"""A statistical text model beside the rules: what real customers' words say about the
category, learned from labelled messages and from people's corrections.

Pure data and arithmetic: the composition root loads the file (`TextModel.load`) and hands
the model to the classifier. Features come from the router's own normaliser — folded
syllables (diacritics optional, teencode expanded), syllable pairs (Vietnamese words are
mostly two syllables: "giao hàng", "hoàn tiền") and character trigrams of each syllable
(typos: "hnag" still shares "<h", "ng>" with "hang") — each present feature counts once, the
vector scaled to unit length. Beside them, the rules' score for each category (`s:product`,
...): the model learns how far each category's rules are to be trusted on real text, which
a single mixing weight cannot (the supplier rules fire on hotel praise, the product rules on
"co giãn" read as "có gián"). A linear model (multinomial logistic regression, trained by
`switchboard model train`) scores the labels; a temperature fitted on a calibration fold
makes its probabilities honest. Inference is a sum of weight rows: tens of microseconds.

The text's part of the sum (`read`, batched by `read_many`) needs no context; the rules'
part is added when the rules have been evaluated in the message's context (`judge`).

Labels are categories, `service` split by topic (`service/delivery`, ...)."""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from router._common_words import COMMON_SYLLABLES
from router.text import Normalized

LABELS = ("product", "supplier", "service/delivery", "service/payment", "service/account",
          "service/other", "supplier_platform", "inquiry")
MAX_FEATURES = 400  # of one message: a long mail is judged on its start
SCORE = "s:"  # the rules' score for a category or topic, as a feature: "s:service/payment"
_CACHE_LIMIT = 500_000  # syllables and pairs whose weight rows are remembered


@lru_cache(maxsize=200_000)
def _token_features(token: str) -> tuple[str, ...]:
    """The syllable, and for one that is not among the common ones (a typo, a rarer or a
    foreign word) its letter trigrams too: "hnag" then shares "<h", "ng>" with "hang".
    Common syllables are spelled right often enough to need none (and would only add
    cost)."""
    if token in COMMON_SYLLABLES or len(token) < 3:
        return (f"u:{token}",)
    padded = f"<{token}>"
    return (f"u:{token}", *(f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2)))


class _RowCache(dict[Any, Any]):
    """Weight rows by syllable (a tuple) or by syllable pair (one row, -1 when the model
    has none), worked out on the first lookup: `map(cache.__getitem__, ...)` then runs in
    C for every syllable seen before."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._compute(key)
        return value


def features(text: Normalized) -> list[str]:
    """The message's features (unordered, without repeats)."""
    tokens = text.tokens[:MAX_FEATURES // 4]
    found: set[str] = set()
    for token in tokens:
        found.update(_token_features(token))
    found.update(f"b:{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return list(found)


def label_of(category: str, topic: str | None) -> str:
    return f"service/{topic or 'other'}" if category == "service" else category


class Reading:
    """The text's part of the model's sum: its weight rows and their scaled sum per label
    (before the rules' scores join it in `TextModel.judge`)."""

    __slots__ = ("logits", "rows")

    def __init__(self, logits: list[float], rows: NDArray[np.intp]) -> None:
        self.logits = logits
        self.rows = rows


class Prediction:
    """The model's verdict on one message. `terms` (the words that weighed most for the
    likeliest label) are worked out only when asked for: most messages never show them."""

    __slots__ = ("label", "probabilities", "_model", "_rows", "_terms", "_by_category")

    def __init__(self, label: str, probabilities: dict[str, float], model: TextModel,
                 rows: NDArray[np.intp]) -> None:
        self.label = label  # the likeliest label
        self.probabilities = probabilities  # per label, calibrated
        self._model, self._rows = model, rows
        self._terms: tuple[str, ...] | None = None
        self._by_category: dict[str, float] | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        if self._terms is None:
            self._terms = self._model.terms(self._rows, self._model.labels.index(self.label))
        return self._terms

    @property
    def category(self) -> str:
        return self.label.split("/")[0]

    def of_category(self) -> dict[str, float]:
        """Per category (the service topics summed); worked out once."""
        if self._by_category is None:
            found: dict[str, float] = {}
            for label, p in self.probabilities.items():
                category = label.partition("/")[0]
                found[category] = found.get(category, 0.0) + p
            self._by_category = found
        return self._by_category


class TextModel:
    def __init__(self, vocabulary: Sequence[str], weights: NDArray[np.float32],
                 bias: NDArray[np.float32], labels: Sequence[str], temperature: float = 1.0,
                 mix: float = 1.0, meta: dict[str, Any] | None = None) -> None:
        """`mix` is how much a rule's weight counts against the model's log-odds when the
        two are combined (fitted with the temperature, see `router.classify`)."""
        self.vocabulary = list(vocabulary)
        self.index = {f: i for i, f in enumerate(self.vocabulary)}
        # which features are words (shown as the terms that weighed), not letter groups
        self._is_word = np.array([not f.startswith(("c:", SCORE)) for f in self.vocabulary],
                                 dtype=bool)
        self.weights = weights
        self.bias = bias
        self.labels = tuple(labels)
        self.temperature = temperature
        self.mix = mix
        self.meta = meta or {}
        # each category's (or topic's) rules score → its weights per label, times the
        # training's scale
        scale = float(self.meta.get("score_scale", 0.0))
        self._score_weights = {
            f[len(SCORE):]: [scale * float(w) for w in self.weights[i]]
            for i, f in enumerate(self.vocabulary) if f.startswith(SCORE)}
        index = self.index
        self._token_rows = _RowCache(lambda token: tuple(
            i for i in map(index.get, _token_features(token)) if i is not None))
        self._pair_rows = _RowCache(lambda pair: index.get(f"b:{pair[0]}_{pair[1]}", -1))

    def _rows(self, feats: Iterable[str]) -> NDArray[np.intp]:
        get = self.index.get
        return np.array(sorted(i for i in map(get, feats) if i is not None), dtype=np.intp)

    def rows_of(self, text: Normalized) -> NDArray[np.intp]:
        """The weight rows of the message's features, sorted: the same rows as
        `_rows(features(text))`, found through per-syllable and per-pair caches of row
        numbers (filled on first sight, see `_RowCache`), so a message costs a few
        dictionary lookups made in C instead of building and hashing feature strings."""
        tokens = text.tokens[:MAX_FEATURES // 4]
        by_token, by_pair = self._token_rows, self._pair_rows
        if len(by_token) + len(by_pair) > _CACHE_LIMIT:  # a long-running server's texts
            by_token.clear()
            by_pair.clear()
        found = set(chain.from_iterable(map(by_token.__getitem__, tokens)))
        found.update(map(by_pair.__getitem__, zip(tokens, tokens[1:], strict=False)))
        found.discard(-1)  # a pair the model does not know
        rows = np.fromiter(found, dtype=np.intp, count=len(found))
        rows.sort()  # the same sums in the same order, whatever the set's order
        return rows

    def logits(self, feats: Iterable[str], scores: Mapping[str, float] | None = None,
               topic_scores: Mapping[str, float] | None = None) -> NDArray[np.float64]:
        rows = self._rows(feats)
        return np.array(self._with_scores(self._logits(rows), scores, topic_scores),
                        dtype=np.float64)

    def _logits(self, rows: NDArray[np.intp]) -> list[float]:
        if not len(rows):
            return [float(b) for b in self.bias]
        total = self.weights[rows].sum(axis=0) / math.sqrt(len(rows)) + self.bias
        return [float(v) for v in total]

    def _with_scores(self, logits: list[float], scores: Mapping[str, float] | None,
                     topic_scores: Mapping[str, float] | None = None) -> list[float]:
        """The text's logits plus each category's (and service topic's) rules score times
        its learned weights (plain floats: eight labels by a few scores cost numpy more
        than Python)."""
        if not (scores or topic_scores) or not self._score_weights:
            return logits
        total = list(logits)
        found = self._score_weights.get
        for prefix, given in (("", scores), ("service/", topic_scores)):
            for name, score in (given or {}).items():
                weights = found(prefix + name) if score else None
                if weights is not None:
                    for k, w in enumerate(weights):
                        total[k] += score * w
        return total

    def _prediction(self, logits: Sequence[float], rows: NDArray[np.intp]) -> Prediction:
        """Small arrays cost numpy more than plain floats: the softmax over eight labels is
        done in Python."""
        top, t = max(logits), self.temperature
        exps = [math.exp((v - top) / t) for v in logits]
        total = sum(exps)
        probabilities = {label: e / total for label, e in zip(self.labels, exps, strict=True)}
        best = max(probabilities, key=probabilities.__getitem__)
        return Prediction(best, probabilities, self, rows)

    def read(self, text: Normalized) -> Reading:
        rows = self.rows_of(text)
        return Reading(self._logits(rows), rows)

    def read_many(self, texts: Sequence[Normalized]) -> list[Reading]:
        """`read` for a batch: the weight rows of all messages are gathered and summed per
        message in one numpy call each, which costs what one message alone would."""
        rows = [self.rows_of(t) for t in texts]
        counts = np.array([len(r) for r in rows], dtype=np.intp)
        if not len(rows) or not counts.all():  # reduceat cannot sum an empty run
            return [Reading(self._logits(r), r) for r in rows]
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        sums = np.add.reduceat(self.weights[np.concatenate(rows)], starts, axis=0)
        logits = (sums / np.sqrt(counts)[:, None] + self.bias).tolist()
        return [Reading(lg, r) for lg, r in zip(logits, rows, strict=True)]

    def judge(self, reading: Reading, scores: Mapping[str, float] | None = None,
              topic_scores: Mapping[str, float] | None = None) -> Prediction:
        """The verdict on a text read before, with the rules' scores in its context (per
        category, and per service topic)."""
        return self._prediction(self._with_scores(reading.logits, scores, topic_scores),
                                reading.rows)

    def predict(self, text: Normalized, scores: Mapping[str, float] | None = None,
                topic_scores: Mapping[str, float] | None = None) -> Prediction:
        return self.judge(self.read(text), scores, topic_scores)

    def predict_many(self, texts: Sequence[Normalized]) -> list[Prediction]:
        """`predict` without rules' scores, for a batch."""
        return [self.judge(r) for r in self.read_many(texts)]

    def terms(self, rows: NDArray[np.intp], label: int, limit: int = 5) -> tuple[str, ...]:
        words = rows[self._is_word[rows]]
        if not len(words):
            return ()
        weights = self.weights[words, label]
        top = np.argsort(-weights, kind="stable")[:limit]
        return tuple(self.vocabulary[int(words[i])][2:].replace("_", " ")
                     for i in top if weights[i] > 0)

    # -- the file ------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Deterministic bytes for the same model (no timestamps, sorted meta)."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            vocabulary=np.frombuffer("\n".join(self.vocabulary).encode(), dtype=np.uint8),
            labels=np.frombuffer("\n".join(self.labels).encode(), dtype=np.uint8),
            numbers=np.array([self.temperature, self.mix], dtype=np.float64),
            meta=np.frombuffer(json.dumps(self.meta, sort_keys=True).encode(),
                               dtype=np.uint8))
        path.write_bytes(_strip_zip_times(buffer.getvalue()))

    @classmethod
    def load(cls, path: Path) -> TextModel:
        with np.load(path, allow_pickle=False) as data:
            parts = {name: data[name] for name in data.files}
        text = {name: bytes(parts[name]).decode() for name in ("vocabulary", "labels", "meta")}
        numbers = parts["numbers"]
        return cls(text["vocabulary"].split("\n"), parts["weights"].astype(np.float32),
                   parts["bias"].astype(np.float32), text["labels"].split("\n"),
                   float(numbers[0]), float(numbers[1]), json.loads(text["meta"]))

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(self.weights.tobytes())
        h.update("\n".join(self.vocabulary).encode())
        return h.hexdigest()[:16]


def _strip_zip_times(data: bytes) -> bytes:
    """np.savez stamps each member with the current time: rewrite the zip with a fixed
    one so that the same model is the same file (`make model` is checked in CI)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            fixed = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(item.filename))
    return out.getvalue()
