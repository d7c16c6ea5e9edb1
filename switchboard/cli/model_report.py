"""How good the router is, with and without its text model: accuracy, macro-F1 (category,
and service topic), the confusion matrix and the reliability table (is a confidence of 0.8
right 80% of the time?). Read by `switchboard model evaluate`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from router import CATEGORIES, TOPICS, Classifier, Context
from switchboard.cli.model_training import Example

BINS = 10


@dataclass(slots=True)
class Scores:
    name: str
    total: int = 0
    category_right: int = 0
    topic_total: int = 0
    topic_right: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    topics: Counter[tuple[str, str]] = field(default_factory=Counter)
    bins: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def accuracy(self) -> float:
        return self.category_right / self.total if self.total else 0.0

    def macro_f1(self, topics: bool = False) -> float:
        pairs, names = (self.topics, TOPICS) if topics else (self.confusion, CATEGORIES)
        scores = []
        for name in names:
            tp = pairs[(name, name)]
            fp = sum(n for (t, p), n in pairs.items() if p == name and t != name)
            fn = sum(n for (t, p), n in pairs.items() if t == name and p != name)
            if tp + fp + fn == 0:
                continue  # a class absent from the set and never predicted
            scores.append(2 * tp / (2 * tp + fp + fn))
        return sum(scores) / len(scores) if scores else 0.0


def score(classifier: Classifier, name: str, examples: Sequence[Example]) -> Scores:
    result = Scores(name)
    for e in examples:
        got = classifier.classify(classifier.prepare(e.text), Context(e.channel))
        truth, _, truth_topic = e.label.partition("/")
        result.total += 1
        result.confusion[(truth, got.category)] += 1
        right = got.category == truth
        result.category_right += right
        cell = result.bins[min(BINS - 1, int(got.confidence * BINS))]
        cell[0] += 1
        cell[1] += right
        if truth == "service" and got.category == "service":
            result.topic_total += 1
            result.topic_right += got.topic == truth_topic
            result.topics[(truth_topic, got.topic or "other")] += 1
    return result


def describe(s: Scores) -> list[str]:
    lines = [f"{s.name}: {s.total} messages; category {s.accuracy:.1%} (macro-F1 "
             f"{s.macro_f1():.3f}); service topic "
             f"{(s.topic_right / s.topic_total if s.topic_total else 0):.1%} (macro-F1 "
             f"{s.macro_f1(topics=True):.3f}, of {s.topic_total} right as service)"]
    lines.append("  confusion (rows: truth, columns: decided) "
                 + " ".join(f"{c[:8]:>8}" for c in CATEGORIES))
    for truth in CATEGORIES:
        row = [s.confusion[(truth, got)] for got in CATEGORIES]
        if any(row):
            lines.append(f"  {truth:<40}" + " ".join(f"{n:>8}" for n in row))
    lines.append("  reliability: confidence → share right (messages)")
    for b in sorted(s.bins):
        n, right = s.bins[b]
        lines.append(f"    {b / BINS:.1f}–{(b + 1) / BINS:.1f}: {right / n:6.1%} ({n})")
    return lines
