"""Builds the router's classifier from the settings and the supplier catalog in the store,
and gathers the facts (`Context`) it needs about one message from the store.

The catalog is rebuilt when suppliers change: a cheap fingerprint (count and latest
`updated_at`) is checked at most every few seconds, so an import is picked up by a running
worker without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, func, select

from router import (
    Classifier,
    ClassifierSettings,
    Context,
    EntityExtractor,
    Normalizer,
    OrderCodePattern,
    OrderFact,
    Prepared,
    RoutingTable,
    Rule,
    RuleSet,
    SupplierCatalog,
    SupplierEntry,
)
from router.bot import code_candidates
from router.model import TextModel
from switchboard.settings import Settings
from tickets import catalog
from tickets.identities import IdentityKind
from tickets.schema import suppliers


def build_rules(settings: Settings, normalizer: Normalizer) -> RuleSet:
    rules = [
        Rule(
            name=r.name, category=r.category, topic=r.topic, weight=r.weight,
            keywords=r.keywords, all_of=r.all_of, unless=r.unless, regex=r.regex,
            channels=r.channels, sender=r.sender, entities=r.entities, priority=r.priority,
            tags=r.tags, department=r.department,
        )
        for r in settings.rules
    ]
    return RuleSet(rules, normalizer)


SHIPPED_MODEL = Path(__file__).resolve().parents[2] / "router" / "model.npz"


def model_path(settings: Settings) -> Path | None:
    """The text model's file, or None for the rules alone."""
    name = settings.classifier.model.strip()
    if name == "off":
        return None
    path = Path(name) if name else SHIPPED_MODEL
    return path if name or path.exists() else None


@lru_cache(maxsize=4)
def _load_model(path: Path, stamp: tuple[int, int]) -> TextModel:
    del stamp  # part of the cache key: a new file is a new model
    return TextModel.load(path)


def load_model(settings: Settings) -> TextModel | None:
    """The model named by the settings, read again when its file changes (the server picks
    up a retrained model without a restart: the classifier cache rechecks every few
    seconds). A named file that is missing or unreadable is an error, not a silent
    fallback to the rules."""
    path = model_path(settings)
    if path is None:
        return None
    try:
        st = path.stat()
        return _load_model(path, (st.st_mtime_ns, st.st_size))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"classifier.model {path}: cannot be read ({exc})") from exc


class ModelError(ValueError):
    """The configured text model cannot be used."""


def build_classifier(settings: Settings, entries: Sequence[SupplierEntry],
                     model: TextModel | None = None) -> Classifier:
    normalizer = Normalizer(settings.teencode)
    extractor = EntityExtractor([OrderCodePattern(o.pattern, o.template)
                                 for o in settings.entities.order_codes])
    c = settings.classifier
    rules = build_rules(settings, normalizer)
    return Classifier(
        normalizer,
        extractor,
        SupplierCatalog(entries, normalizer, known_words=rules.vocabulary),
        rules,
        ClassifierSettings(threshold=c.threshold, prior=c.prior,
                           fallback_category=c.fallback_category,
                           default_priority=c.default_priority,
                           purchase_words=c.purchase_words),
        model if model is not None else load_model(settings),
    )


def routing_table(settings: Settings) -> RoutingTable:
    r = settings.routing
    return RoutingTable(
        by_category=dict(r.by_category), by_topic=dict(r.by_topic),
        default_department=r.default_department, supplier_acts_on=r.supplier_acts_on,
        unknown_supplier_department=r.unknown_supplier_department,
    )


def supplier_entries(conn: Connection) -> list[SupplierEntry]:
    return [SupplierEntry(s.id, s.name, s.aliases, s.emails, s.phones)
            for s in catalog.load_suppliers(conn)]


def _model_stamp(settings: Settings) -> tuple[int, int] | None:
    path = model_path(settings)
    try:
        st = path.stat() if path is not None else None
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size) if st is not None else None


class ClassifierCache:
    """One classifier per catalog version, shared by every message the worker handles."""

    def __init__(self, settings: Settings, recheck_seconds: float = 5.0) -> None:
        self._settings = settings
        self._recheck = recheck_seconds
        self._fingerprint: tuple[object, ...] | None = None
        self._checked_at = 0.0
        self._classifier: Classifier | None = None

    def get(self, conn: Connection) -> Classifier:
        now = time.monotonic()
        if self._classifier is not None and now - self._checked_at < self._recheck:
            return self._classifier
        self._checked_at = now
        fingerprint = (*conn.execute(
            select(func.count(), func.max(suppliers.c.updated_at)).select_from(suppliers)
        ).one(), _model_stamp(self._settings))
        if self._classifier is None or fingerprint != self._fingerprint:
            self._classifier = build_classifier(self._settings, supplier_entries(conn))
            self._fingerprint = fingerprint
        return self._classifier

    def invalidate(self) -> None:
        self._classifier = None


def sender_supplier(classifier: Classifier, kind: str, value: str,
                    from_address: str | None = None) -> str | None:
    """The supplier whose registered contact wrote, if any. `from_address` is an email's
    From when its answers were asked elsewhere (Reply-To): a supplier's registered address
    there is the supplier speaking too."""
    found = (classifier.catalog.by_contact(value)
             if kind in (IdentityKind.EMAIL, IdentityKind.PHONE) else None)
    if found is None and from_address:
        found = classifier.catalog.by_contact(from_address)
    return found


def gather_context(
    conn: Connection, prepared: Prepared, channel: str, sender_supplier_id: str | None,
    bought: Sequence[catalog.OrderRef],
) -> Context:
    """Orders behind the codes in the text (the configured patterns', and any code-like
    token the orders table holds, whatever its shape: `MC100013`, `SPX-77120934`), and (for
    a customer, not a supplier writing) the orders the customer placed."""
    codes = list(dict.fromkeys([*prepared.entities.order_codes,
                                *code_candidates(prepared.text.original)]))
    known = {
        code: OrderFact(code, supplier_id, product)
        for code, (supplier_id, product) in catalog.orders_by_code(conn, codes).items()
    }
    mine = [] if sender_supplier_id else [OrderFact(o.code, o.supplier_id, o.product)
                                          for o in bought]
    return Context(channel=channel, sender_supplier_id=sender_supplier_id,
                   known_orders=known, customer_orders=mine)
