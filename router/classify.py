"""Classification of one message: category, topic, supplier, confidence and why.

Two steps so that the router stays free of I/O: `prepare` reads the text (normalised form,
entities, supplier names); the caller then looks up what only the store knows (which order
codes exist, the sender's own orders, whether the sender is a supplier) and hands it to
`classify`, which decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from router.entities import Entities, EntityExtractor
from router.model import Prediction, Reading, TextModel
from router.questions import is_yes_no_question
from router.rules import CATEGORIES, PRIORITIES, TOPICS, RuleSet, Signals
from router.suppliers import SupplierCatalog, SupplierMatch
from router.text import Normalized, Normalizer, fold_tokens

COMPLAINTS_ABOUT_GOODS = ("product", "supplier")
# A rule this heavy decides its category whatever the text model thinks: the manager's law.
# Above every shipped rule (the heaviest weigh 4): those are keyword lists, and on real text
# "vat", "tính phí" or "phụ thu" in a question are not a supplier's extra charge (the
# heaviest shipped rule was wrong 34 times in 64 on the training split). The model learns
# how far each category's rules are to be trusted; a manager who means a rule as law gives
# it 5 or more.
STRONG = 5.0


@dataclass(frozen=True, slots=True)
class ClassifierSettings:
    threshold: float = 0.3
    prior: float = 1.0
    fallback_category: str = "inquiry"
    default_priority: str = "normal"
    purchase_words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Prepared:
    text: Normalized
    entities: Entities
    named_suppliers: tuple[SupplierMatch, ...]
    question: bool = False


@dataclass(frozen=True, slots=True)
class OrderFact:
    code: str
    supplier_id: str
    product: str


@dataclass(frozen=True, slots=True)
class Context:
    """What the store knows: the orders behind codes in the text, the sender's orders, and
    the supplier whose registered contact sent the message."""

    channel: str
    sender_supplier_id: str | None = None
    known_orders: Mapping[str, OrderFact] = field(default_factory=dict)
    customer_orders: Sequence[OrderFact] = ()


class ModelOpinion:
    """What the text model said, shown beside the rules that fired (its weightiest words
    are looked up only when shown)."""

    __slots__ = ("category", "probability", "_prediction")

    def __init__(self, prediction: Prediction) -> None:
        self.category = prediction.category
        self.probability = round(prediction.of_category().get(self.category, 0.0), 3)
        self._prediction = prediction

    @property
    def terms(self) -> tuple[str, ...]:
        return self._prediction.terms


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    topic: str | None
    supplier_id: str | None
    confidence: float
    rules: tuple[str, ...]
    priority: str
    tags: tuple[str, ...]
    supplier_source: str | None
    fallback: bool
    scores: Mapping[str, float]
    department: str | None = None  # set by a rule, overriding the routing table
    department_rule: str | None = None
    model: ModelOpinion | None = None

    def explain(self) -> str:
        rules = ", ".join(self.rules) or "none"
        text = f"{self.category}{'/' + self.topic if self.topic else ''} " \
               f"(confidence {self.confidence:.2f}; rules: {rules})"
        if self.fallback:
            text += "; below the confidence threshold, so the default category was used"
        return text


class Classifier:
    def __init__(
        self,
        normalizer: Normalizer,
        extractor: EntityExtractor,
        catalog: SupplierCatalog,
        rules: RuleSet,
        settings: ClassifierSettings,
        model: TextModel | None = None,
    ) -> None:
        self.model = model  # None: the rules alone, as before the model existed
        self._weights = {r.name: (r.category, r.weight) for r in rules.rules}
        self.normalizer = normalizer
        self.extractor = extractor
        self.catalog = catalog
        self.rules = rules
        self.settings = settings
        self._purchase = frozenset(
            " ".join(fold_tokens(w)) for w in settings.purchase_words if fold_tokens(w)
        )

    def prepare(self, text: str, subject: str | None = None) -> Prepared:
        full = f"{subject}\n{text}" if subject else text
        normalized = self.normalizer(full)
        return Prepared(normalized, self.extractor(full),
                        tuple(self.catalog.find(normalized)),
                        is_yes_no_question(normalized))

    def classify_many(self, items: Sequence[tuple[Prepared, Context]]
                      ) -> list[Classification]:
        """`classify` for a batch: the model reads all the texts in one pass (the same
        answers as one by one, at about half the model's cost per message)."""
        readings = self.read_many([p for p, _ in items])
        return [self.classify(p, c, reading)
                for (p, c), reading in zip(items, readings, strict=True)]

    def read_many(self, prepared: Sequence[Prepared]) -> list[Reading | None]:
        """The text model's reading of each text, in one pass (None each without a model),
        for `classify` to be given once the message's context is known."""
        if self.model is None or not prepared:
            return [None] * len(prepared)
        return list(self.model.read_many([p.text for p in prepared]))

    def classify(self, prepared: Prepared, context: Context,
                 reading: Reading | None = None) -> Classification:
        """`reading`: the model's reading of this text, when a batch already made it."""
        evaluation = self.rules.evaluate(prepared.text, prepared.text.original,
                                         self.signals(prepared, context))
        opinion = None
        if self.model is None:
            category, confidence, fallback = self._decide(evaluation.scores)
            topic = None
            if category == "service":
                topics = evaluation.topic_scores
                topic = max(topics, key=lambda t: topics[t]) if topics else "other"
        elif (strong := self._strongest(evaluation.fired)) is not None:
            # the manager's law: a rule this heavy decides, and the model is not asked
            category, confidence, fallback = self._decide(evaluation.scores)
            category, fallback = strong, False
            topics = evaluation.topic_scores
            topic = (max(topics, key=lambda t: topics[t]) if topics else "other") \
                if category == "service" else None
        else:
            prediction = self.model.judge(reading or self.model.read(prepared.text),
                                          evaluation.scores, evaluation.topic_scores)
            category, topic, confidence, fallback, opinion = self._combine(
                prediction, evaluation.scores, evaluation.topic_scores)
        supplier_id, source = self._supplier(prepared, context, category, topic)
        chosen = evaluation.departments.get(category) or evaluation.departments.get(None)
        return Classification(
            category=category,
            topic=topic,
            supplier_id=supplier_id,
            confidence=round(confidence, 3),
            rules=evaluation.fired,
            priority=evaluation.priority or self.settings.default_priority,
            tags=evaluation.tags,
            supplier_source=source,
            fallback=fallback,
            scores=evaluation.scores,
            department=chosen[1] if chosen else None,
            department_rule=chosen[2] if chosen else None,
            model=opinion,
        )

    @staticmethod
    def signals(prepared: Prepared, context: Context) -> Signals:
        """What the rules' conditions can ask besides the words: channel, sender, entities."""
        entities = set()
        if prepared.entities.order_codes:
            entities.add("order_code")
        if context.known_orders:
            entities.add("known_order")
        if prepared.entities.phones:
            entities.add("phone")
        if prepared.entities.emails:
            entities.add("email")
        if prepared.named_suppliers:
            entities.add("supplier")
        if prepared.question:
            entities.add("question")
        return Signals(context.channel,
                       "supplier" if context.sender_supplier_id else "customer",
                       frozenset(entities))

    def _combine(self, prediction: Prediction, scores: Mapping[str, float],
                 topic_scores: Mapping[str, float]
                 ) -> tuple[str, str | None, float, bool, ModelOpinion]:
        """Rules and model together: each category's log-probability under the model (which
        read the rules' scores too, with the weights it learned for them) plus `mix` times
        its rules' weight, normalised (a product of experts; training fits `mix`, and 0 is
        allowed). Several weak rules and the model outvote one weak keyword; a strong rule
        (weight 5 and more) decides alone; the confidence is the combined probability,
        calibrated on a fold the model was not fitted on. Below the threshold, the fallback
        category, as without a model. (A strong rule never gets here: it decides alone.)"""
        assert self.model is not None
        mix = self.model.mix
        by_category = prediction.of_category()
        logits = {c: math.log(by_category.get(c, 0.0) + 1e-6) + mix * scores.get(c, 0.0)
                  for c in CATEGORIES}
        combined = _normalise(logits)
        category = max(combined, key=lambda c: (combined[c], c == "inquiry"))
        confidence = combined[category]
        fallback = confidence < self.settings.threshold
        if fallback:
            category = self.settings.fallback_category
        topic = None
        if category == "service":
            topic_logits = {t: math.log(prediction.probabilities.get(f"service/{t}", 0.0)
                                        + 1e-6) + mix * topic_scores.get(t, 0.0)
                            for t in TOPICS}
            topic = max(topic_logits, key=lambda t: topic_logits[t])
        opinion = ModelOpinion(prediction)
        return category, topic, confidence, fallback, opinion

    def _strongest(self, fired: Sequence[str]) -> str | None:
        """The category of the heaviest fired rule when it weighs STRONG or more."""
        best: tuple[float, str] | None = None
        for name in fired:
            category, weight = self._weights.get(name, (None, 0.0))
            if category is not None and weight >= STRONG and (best is None
                                                              or weight > best[0]):
                best = (weight, category)
        return best[1] if best else None

    def _decide(self, scores: Mapping[str, float]) -> tuple[str, float, bool]:
        if not scores:
            return self.settings.fallback_category, 0.0, True
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        top_category, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        confidence = top / (top + second + self.settings.prior)
        if confidence < self.settings.threshold:
            return self.settings.fallback_category, confidence, True
        return top_category, confidence, False

    def _supplier(
        self, prepared: Prepared, context: Context, category: str, topic: str | None
    ) -> tuple[str | None, str | None]:
        """The supplier the message is about, and the evidence, strongest evidence first."""
        if context.sender_supplier_id:
            return context.sender_supplier_id, "sender is the supplier's registered contact"
        for code in (*prepared.entities.order_codes, *context.known_orders):
            order = context.known_orders.get(code)
            if order is not None:
                return order.supplier_id, f"order {code}"
        if prepared.named_suppliers:
            match = self._pick_named(prepared.named_suppliers, context)
            how = "named" if match.exact else "named (typo-tolerant match)"
            return match.supplier_id, f"{how}: {match.form!r}"
        orders = context.customer_orders
        if not orders:
            return None, None
        if category == "service" and topic in ("account", "other"):
            # about the account or our support: the supplier only if the purchase is named
            return _named_product(prepared, orders)
        if self._about_a_purchase(prepared, category):
            return self._from_customer_orders(prepared, orders)
        return None, None

    @staticmethod
    def _pick_named(matches: Sequence[SupplierMatch], context: Context) -> SupplierMatch:
        top = [m for m in matches if m.score == matches[0].score]
        if len(top) > 1 and context.customer_orders:
            bought_from = {o.supplier_id for o in context.customer_orders}
            for match in top:
                if match.supplier_id in bought_from:
                    return match
        return matches[0]

    def _about_a_purchase(self, prepared: Prepared, category: str) -> bool:
        if category in COMPLAINTS_ABOUT_GOODS:
            return True
        padded = prepared.text.padded
        return any(f" {w} " in padded for w in self._purchase)

    @staticmethod
    def _from_customer_orders(
        prepared: Prepared, orders: Sequence[OrderFact]
    ) -> tuple[str | None, str | None]:
        suppliers = {o.supplier_id for o in orders}
        if len(suppliers) == 1:
            only = next(iter(suppliers))
            return only, "the customer's orders are all from this supplier"
        return _named_product(prepared, orders)


def _normalise(logits: Mapping[str, float]) -> dict[str, float]:
    top = max(logits.values())
    exps = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exps.values())
    return {k: v / total for k, v in exps.items()}


def _named_product(prepared: Prepared,
                   orders: Sequence[OrderFact]) -> tuple[str | None, str | None]:
    """The supplier of the one order whose product the message names (most words shared)."""
    words = set(prepared.text.tokens)
    best: tuple[int, OrderFact] | None = None
    tied = False
    for order in orders:
        overlap = sum(1 for t in _product_words(order.product) if t in words)
        if overlap and (best is None or overlap > best[0]):
            best, tied = (overlap, order), False
        elif best and overlap == best[0] and order.supplier_id != best[1].supplier_id:
            tied = True
    if best is not None and not tied:
        return best[1].supplier_id, f"product of order {best[1].code} named"
    return None, None


@lru_cache(maxsize=16384)
def _product_words(product: str) -> frozenset[str]:
    return frozenset(t for t in fold_tokens(product) if len(t) >= 3)


def priority_max(a: str, b: str) -> str:
    return a if PRIORITIES.index(a) >= PRIORITIES.index(b) else b
