"""Accuracy of `switchboard classify` on a labelled set, with a confusion matrix.

    python benchmarks/classify_accuracy.py tests/data/classify/devset.jsonl

The folder of the set must hold `suppliers.csv` and `orders.csv`; they are imported into a
throw-away SQLite database through the real CLI, the set is piped through
`switchboard classify`, and each answer is compared with the line's `expected` labels.
Exit status 1 when category or supplier accuracy is below `--min` (default 0.90).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

CATEGORIES = ["product", "supplier", "service", "supplier_platform", "inquiry"]


def run(args: list[str], stdin: bytes | None = None) -> bytes:
    result = subprocess.run([sys.executable, "-m", "switchboard.cli", *args], input=stdin,
                            capture_output=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr.decode())
        raise SystemExit(f"switchboard {' '.join(args)} failed")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("labelled", type=Path)
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--min", type=float, default=0.90)
    parser.add_argument("--show-errors", action="store_true")
    options = parser.parse_args()
    folder = options.labelled.parent
    lines = [json.loads(x) for x in options.labelled.read_text().splitlines() if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/eval.db"
        base = ["--config", options.config, "--db", db]
        run([*base, "import", "suppliers", str(folder / "suppliers.csv")])
        run([*base, "import", "orders", str(folder / "orders.csv")])
        out = run([*base, "classify"], stdin=options.labelled.read_bytes())
    answers = {a["id"]: a for a in map(json.loads, out.decode().splitlines())}
    confusion: Counter[tuple[str, str]] = Counter()
    category_ok = supplier_ok = topic_ok = topic_total = 0
    errors = []
    for line in lines:
        want, got = line["expected"], answers[line["id"]]
        confusion[(want["category"], got["category"])] += 1
        c_ok = want["category"] == got["category"]
        s_ok = want["supplier_id"] == got["supplier_id"]
        category_ok += c_ok
        supplier_ok += s_ok
        if want["category"] == "service":
            topic_total += 1
            topic_ok += c_ok and want["topic"] == got["topic"]
        if not (c_ok and s_ok and (want["category"] != "service" or want["topic"] == got["topic"])):
            errors.append((line, got))
    n = len(lines)
    print(f"{n} messages from {options.labelled}")
    print(f"category accuracy {category_ok / n:.1%}   supplier accuracy {supplier_ok / n:.1%}   "
          f"service topic accuracy {topic_ok / max(topic_total, 1):.1%}")
    print()
    width = max(len(c) for c in CATEGORIES) + 2
    print("expected \\ got".ljust(width + 4) + "".join(c[:10].rjust(12) for c in CATEGORIES))
    for want_category in CATEGORIES:
        row = "".join(str(confusion[(want_category, g)]).rjust(12) for g in CATEGORIES)
        print(want_category.ljust(width + 4) + row)
    if options.show_errors:
        print()
        for line, got in errors:
            want = line["expected"]
            print(f"{line['id']} want {want['category']}/{want['topic']}/{want['supplier_id']} "
                  f"got {got['category']}/{got['topic']}/{got['supplier_id']} {got['rules']}")
            print(f"    [{line['channel']} {line['from']}] {line.get('subject') or ''} "
                  f"{line['text'][:300]!r}")
    ok = category_ok / n >= options.min and supplier_ok / n >= options.min
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
