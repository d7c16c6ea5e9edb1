"""Classification throughput on one core: default rules, 1,000 suppliers.

    python -m benchmarks.bench_classify [--suppliers 1000] [--seconds 5]

Messages are the labelled development set's texts (Vietnamese with and without diacritics,
teencode, English), cycled. Each message is prepared (normalised, entities, supplier names)
and classified with a customer-order context, as the pipeline does after its lookups.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks._catalog import synthetic_suppliers
from router import Context, OrderFact
from switchboard.classification import build_classifier
from switchboard.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suppliers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    options, _ = parser.parse_known_args()
    settings = load_settings(ROOT / "config.yaml", environ={})
    started = time.perf_counter()
    classifier = build_classifier(settings, synthetic_suppliers(options.suppliers))
    build = time.perf_counter() - started
    lines = [json.loads(x) for x in (ROOT / "tests/data/classify/devset.jsonl")
             .read_text(encoding="utf-8").splitlines() if x.strip()]
    texts = [(x["text"], x.get("subject"), x["channel"]) for x in lines]
    orders = [OrderFact("DH20260001", "B00001", "Buffet tối"),
              OrderFact("DH20260002", "B00002", "Massage")]
    done = 0
    deadline = time.perf_counter() + options.seconds
    begin = time.perf_counter()
    while time.perf_counter() < deadline:
        for text, subject, channel in texts:
            prepared = classifier.prepare(text, subject)
            classifier.classify(prepared, Context(channel, customer_orders=orders))
        done += len(texts)
    elapsed = time.perf_counter() - begin
    rate = done / elapsed
    print(f"classify: {rate:,.0f} messages/s on one core ({done:,} messages, "
          f"{options.suppliers:,} suppliers, {len(settings.rules)} rules; "
          f"catalog built in {build * 1000:.0f} ms; {1e6 / rate:.0f} µs per message)")
    return {"classify_per_s": rate}


if __name__ == "__main__":
    main()
