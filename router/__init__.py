"""Pure decision code: Vietnamese text normalisation, entities, rules, routing. No I/O."""

from router.classify import (
    Classification,
    Classifier,
    ClassifierSettings,
    Context,
    OrderFact,
    Prepared,
)
from router.entities import Entities, EntityExtractor, OrderCodePattern
from router.routing import Route, RoutingTable, route
from router.rules import CATEGORIES, PRIORITIES, TOPICS, Rule, RuleSet
from router.suppliers import SupplierCatalog, SupplierEntry, SupplierMatch
from router.text import Normalized, Normalizer, fold

__all__ = [
    "CATEGORIES",
    "PRIORITIES",
    "TOPICS",
    "Classification",
    "Classifier",
    "ClassifierSettings",
    "Context",
    "Entities",
    "EntityExtractor",
    "Normalized",
    "Normalizer",
    "OrderCodePattern",
    "OrderFact",
    "Prepared",
    "Route",
    "RoutingTable",
    "Rule",
    "RuleSet",
    "SupplierCatalog",
    "SupplierEntry",
    "SupplierMatch",
    "fold",
    "route",
]
