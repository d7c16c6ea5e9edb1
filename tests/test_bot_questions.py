"""The bot judged on the labelled questions (tests/data/bot/questions.jsonl) against the
shipped knowledge base and the orders in tests/data/bot/orders.csv.

The store's part is played here the way the pipeline plays it: the writer is known by the
phone or email they write from (`from`), a code in the text is theirs when the order's
customer phone or email is the writer's, and anything else code-like is foreign. The bars
are the issue's: top-1 ≥ 90% on answerable knowledge questions, no order detail to anyone
but the order's customer, no complaint answered.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router import Classifier, Context, SupplierEntry, fold
from router.bot import BotDecision, OrderStatus, code_candidates, decide, split_codes
from router.knowledge import KnowledgeBase
from switchboard.settings import load_settings
from switchboard.ticket_rules.classification import build_classifier
from switchboard.ticket_rules.knowledge_file import parse
from tickets.catalog import parse_suppliers

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
KNOWLEDGE = ROOT / "templates" / "knowledge" / "marketplace.yaml"
PUBLIC = frozenset({"facebook_comment", "web_comment"})
OPEN = frozenset({"placed", "confirmed", "shipping"})


def writer_key(value: str) -> str:
    """A phone as digits with a leading 84 read as 0, or an email lower-cased."""
    if "@" in value:
        return value.strip().lower()
    digits = re.sub(r"\D", "", value)
    return "0" + digits[2:] if digits.startswith("84") and len(digits) >= 11 else digits


def _when(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Held:
    """An order as the store holds it: its status and who bought it."""

    status: OrderStatus
    owners: frozenset[str]


def load_orders(path: Path = DATA / "bot" / "orders.csv") -> dict[str, Held]:
    orders = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            status = OrderStatus(row["order_code"].upper(), row["supplier_id"], row["product"],
                                 row["status"] or None, _when(row["status_at"]),
                                 row["carrier"] or None, row["tracking_code"] or None,
                                 _when(row["expected_at"]))
            owners = {writer_key(v) for v in (row["customer_phone"], row["customer_email"]) if v}
            orders[status.code] = Held(status, frozenset(owners))
    return orders


@dataclass(frozen=True)
class Facts:
    """What the store would tell the bot about one message."""

    own_in_text: dict[str, OrderStatus]
    foreign: list[str]
    own_open: list[OrderStatus]


def facts_for(text: str, writer: str, orders: Mapping[str, Held]) -> Facts:
    """The writer's own orders named in the text, the foreign codes (someone else's order,
    or no order at all), and the writer's open orders, as the pipeline's lookups give them."""
    key = writer_key(writer)
    candidates = code_candidates(text)
    held = {c for c in candidates if c in orders}
    mine, foreign = split_codes(text, held, {c for c in held if key in orders[c].owners})
    open_orders = [h.status for h in orders.values() if key in h.owners and h.status.status in OPEN]
    return Facts({c: orders[c].status for c in mine}, foreign, open_orders)


@cache
def classifier() -> Classifier:
    config = load_settings(ROOT / "config.yaml", environ={})
    suppliers = [SupplierEntry(r.supplier_id, r.name, r.aliases, r.emails, r.phones)
                 for r in parse_suppliers(DATA / "classify" / "suppliers.csv")]
    return build_classifier(config, suppliers)


@cache
def knowledge() -> KnowledgeBase:
    return KnowledgeBase(parse(KNOWLEDGE), classifier().normalizer)


def run(line: Mapping[str, Any], orders: Mapping[str, Held], text: str | None = None,
        ) -> BotDecision:
    """The decision the pipeline would make for one labelled line."""
    text = line["text"] if text is None else text
    subject = line.get("subject")
    clf = classifier()
    prepared = clf.prepare(text, subject)
    full = f"{subject}\n{text}" if subject else text
    facts = facts_for(full, line["from"], orders)
    classification = clf.classify(prepared, Context(line["channel"]))
    mode = "faq" if line["channel"] in PUBLIC else "full"
    return decide(prepared, classification, knowledge(), channel=line["channel"], mode=mode,
                  orders_in_text=facts.own_in_text, foreign_codes=facts.foreign,
                  own_open_orders=facts.own_open)


def load_questions() -> list[dict[str, Any]]:
    path = DATA / "bot" / "questions.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def judged() -> list[tuple[dict[str, Any], BotDecision]]:
    orders = load_orders()
    return [(line, run(line, orders)) for line in load_questions()]


def _label(decision: BotDecision) -> str:
    if decision.action == "handover":
        return f"handover/{decision.reason}"
    return "faq" if decision.kind == "faq" else "order_status"


def _expected_label(expected: Mapping[str, Any]) -> str:
    if expected["action"] == "handover":
        return f"handover/{expected['reason']}"
    return "faq" if expected["kind"] == "faq" else "order_status"


def test_the_labelled_set_is_large_enough() -> None:
    assert len(load_questions()) >= 300


def test_top1_on_answerable_knowledge_questions(
        judged: list[tuple[dict[str, Any], BotDecision]]) -> None:
    answerable = [(x, d) for x, d in judged if x["expected"]["kind"] == "faq"
                  and x["expected"]["action"] == "answer"]
    right = [x["id"] for x, d in answerable if d.faq_id == x["expected"]["faq_id"]]
    wrong = [(x["id"], x["expected"]["faq_id"], d.faq_id, d.reason, round(d.confidence, 2))
             for x, d in answerable if d.faq_id != x["expected"]["faq_id"]]
    accuracy = len(right) / len(answerable)
    print(f"\nknowledge top-1: {accuracy:.1%} of {len(answerable)}; misses: {wrong}")
    assert accuracy >= 0.90


def test_no_order_detail_to_anyone_but_its_customer(
        judged: list[tuple[dict[str, Any], BotDecision]]) -> None:
    orders = load_orders()
    leaks = []
    for line, decision in judged:
        if decision.order is not None:
            owners = orders[decision.order.code].owners
            if writer_key(line["from"]) not in owners or line["channel"] in PUBLIC:
                leaks.append(line["id"])
        if decision.choices and line["channel"] in PUBLIC:
            leaks.append(line["id"])
    assert leaks == []


def test_no_complaint_is_answered(judged: list[tuple[dict[str, Any], BotDecision]]) -> None:
    answered = [x["id"] for x, d in judged
                if x["expected"].get("reason") == "complaint" and d.action == "answer"]
    assert answered == []


def test_order_status_answers_name_the_right_order(
        judged: list[tuple[dict[str, Any], BotDecision]]) -> None:
    wrong = [(x["id"], x["expected"]["order_code"], d.order_code, d.reason) for x, d in judged
             if x["expected"]["kind"] == "order_status" and x["expected"]["action"] == "answer"
             and (d.kind != "order_status" or d.order_code != x["expected"]["order_code"])]
    total = sum(1 for x, _ in judged if x["expected"]["kind"] == "order_status"
                and x["expected"]["action"] == "answer")
    print(f"\norder status: {total - len(wrong)} of {total} right; wrong: {wrong}")
    assert len(wrong) <= total * 0.1


def test_report(judged: list[tuple[dict[str, Any], BotDecision]]) -> None:
    """Per expected outcome, what the bot did (the confusion the lead reads)."""
    confusion: Counter[tuple[str, str]] = Counter(
        (_expected_label(x["expected"]), _label(d)) for x, d in judged)
    labels = sorted({e for e, _ in confusion})
    print("\nexpected → decided")
    for expected in labels:
        row = {g: n for (e, g), n in confusion.items() if e == expected}
        total = sum(row.values())
        cells = ", ".join(f"{g} {n}" for g, n in sorted(row.items(), key=lambda kv: -kv[1]))
        print(f"  {expected:<28} {row.get(expected, 0):>3}/{total:<3} {cells}")
    agree = sum(n for (e, g), n in confusion.items() if e == g)
    print(f"  overall agreement {agree / len(judged):.1%} of {len(judged)}")
    assert agree / len(judged) >= 0.85


_GUARDED = [x for x in (load_questions() if (DATA / "bot" / "questions.jsonl").exists() else [])
            if x["expected"].get("reason") in ("complaint", "customer_request")]


@pytest.mark.skipif(not _GUARDED, reason="no labelled complaints or person requests")
@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_GUARDED or [{}]), st.booleans())
def test_stripping_diacritics_never_turns_a_handover_into_an_answer(
        line: dict[str, Any], upper: bool) -> None:
    orders = load_orders()
    if run(line, orders).action != "handover":
        return  # a labelled miss is reported by the tests above, not here
    stripped = fold(line["text"])
    assert run(line, orders, stripped.upper() if upper else stripped).action == "handover"
