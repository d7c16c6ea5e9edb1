"""Rewrite `router/training_data/split.json` from the data files (issue 14).

An id is held out iff `int(sha256(id), 16) % 5 == 0`: a line keeps its side of the split
whatever else is added, so the held-out figures of earlier models stay comparable.

    python docs/research/issue14_split.py
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "router" / "training_data"
RULE = 'held_out iff int(hashlib.sha256(id.encode("utf-8")).hexdigest(), 16) % 5 == 0'


def held_out(line_id: str) -> bool:
    return int(hashlib.sha256(line_id.encode("utf-8")).hexdigest(), 16) % 5 == 0


def label(expected: dict[str, str | None]) -> str:
    category = str(expected["category"])
    return f"service/{expected['topic']}" if category == "service" else category


def main() -> None:
    files = sorted(DATA.glob("*.jsonl"))
    lines = [json.loads(text) for path in files
             for text in path.read_text(encoding="utf-8").splitlines() if text.strip()]
    counts: dict[str, Counter[str]] = {}
    by_source: dict[str, Counter[str]] = {}
    for x in lines:
        side = "held_out" if held_out(x["id"]) else "train"
        for table, name in ((counts, label(x["expected"])), (by_source, x["source"])):
            table.setdefault(name, Counter()).update([side, "total"])
    split = {"rule": RULE, "files": [p.name for p in files], "total": len(lines),
             "counts": {k: {s: v[s] for s in ("train", "held_out", "total")}
                        for k, v in sorted(counts.items())},
             "counts_by_source": {k: {s: v[s] for s in ("train", "held_out", "total")}
                                  for k, v in sorted(by_source.items())},
             "held_out": sorted(x["id"] for x in lines if held_out(x["id"]))}
    (DATA / "split.json").write_text(json.dumps(split, indent=1, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    print(f"{len(lines)} lines, {sum(map(held_out, (x['id'] for x in lines)))} held out")


if __name__ == "__main__":
    main()
