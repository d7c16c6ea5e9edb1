"""Bring the Tiki fashion lines in line with the project's rule for a wrong or missing item
(issue 14).

The project's own labelled sets, the shipped rule `product_wrong_item` and DESIGN.md agree:
a wrong size, colour or model, or too few pieces, is a complaint about what was bought
(`product`: "not as described"). It becomes `supplier` only when the text complains about
the supplier's conduct as well: no answer, an exchange or refund refused or not kept, rude
words, a substitution made on purpose without asking, a charge for what was not ordered.
The Tiki lines had been labelled `supplier` for a wrong item alone; the model then met
"giao sai size" under both labels. This script keeps `supplier` for the lines below (each
read by hand; the reason beside it) and sets the other `supplier` lines to `product`.
Idempotent.

    python docs/research/issue14_wrong_item.py
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "router" / "training_data"
FILE = DATA / "tiki_fashion.jsonl"

CONDUCT = {  # row of fashion_comment_data.csv → what the supplier did
    382: "charged for earrings not ordered",
    1365: "asked to exchange, no answer",
    1581: "changed the colour without waiting for the customer's consent",
    2116: "sent the wrong size on purpose",
    2222: "sent another size instead of saying it was out of stock",
    2236: "would not exchange the size",
    2318: "took the phone number for an exchange, then silence",
    2366: "sent socks for a bra and still charged for it",
    2407: "asked to exchange, no answer",
    2441: "sent one of three, then silence",
    2506: "sent another model instead of saying it was out of stock",
    2564: "charged for express delivery it did not give; rude",
    3795: "substituted without asking the customer",
    3878: "would not help with an exchange",
    4205: "promised a refund, never paid it",
    4759: "would not exchange",
    4900: "rude to the customer",
    4975: "slow to answer, no answer about the missing piece",
    5044: "five missing, messages unanswered",
    5107: "no answer to messages",
}


def main() -> None:
    lines = [json.loads(t) for t in FILE.read_text(encoding="utf-8").splitlines() if t.strip()]
    moved = []
    for x in lines:
        row = int(x["id"].rsplit("-", 1)[1])
        if x["expected"]["category"] == "supplier" and row not in CONDUCT:
            x["expected"] = {"category": "product", "topic": None}
            moved.append(row)
    FILE.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                    encoding="utf-8")
    kept = sum(x["expected"]["category"] == "supplier" for x in lines)
    print(f"{FILE.name}: {len(moved)} wrong-item lines set to product, {kept} supplier kept")
    print("moved:", ", ".join(map(str, sorted(moved))))


if __name__ == "__main__":
    main()
