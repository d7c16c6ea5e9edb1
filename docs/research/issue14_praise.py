"""How `router/training_data/tiki_praise.jsonl` and `hanoi_praise.jsonl` were selected
(issue 14; SOURCES.md §6). Kept so the selection can be checked and repeated: the raw files
are not in the repository (fetch them from the commits SOURCES.md names).

    python docs/research/issue14_praise.py TIKI_CSV HOTEL_VAL_CSV HOTEL_TEST_CSV OUT_DIR

Why praise at all: the router sees praise on the product comment box and page comments
every day, and a model trained on complaints alone filed 165 of 200 real praise lines as
`product` complaints (each one a supplier ticket on a 3-day clock). Praise asks nothing and
complains of nothing: in the router's five categories it is `inquiry`, the non-complaint
class, as chit-chat already is in the bot's set.

The sources' positive labels are one annotator's and sometimes wrong ("Áo bị rách túi" is
marked positive), so a review is kept only when every aspect it has is positive and its
words hold none of the complaint and contrast cues below, as written or, for a writer
without diacritics, folded. Every line chosen was then read by hand; the four that still
carried a complaint ("phải đậm như hình càng đẹp", "quầy bar cần cải thiện", ...) are
`DROPPED`."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
import unicodedata
from pathlib import Path

# cues written with their marks: folded, each collides with a word of praise
# (chật/chất, mất/mát, nhăn/nhận, phai/phải, rộng/rồng, nhỏ/nhớ)
MARKED = {"chật", "mất", "nhăn", "phai", "rộng", "nhỏ", "tệ", "xấu", "hư", "hỏng", "đổi",
          "trả", "lâu", "kém", "dư", "tuột", "bung", "xù", "sờn", "mỏng", "thô", "rách",
          "bẩn", "dơ", "ố", "lem", "chán", "bực", "phí", "lừa", "cũ", "ồn", "hôi", "mùi",
          "chờ", "đợi", "huỷ", "hủy", "muộn", "trễ", "sai", "thiếu", "nhầm", "lỗi", "bị",
          "chưa", "không", "chẳng", "chả", "đừng", "nhưng", "tuy", "mỗi", "riêng", "trừ",
          "hơi", "tiếc", "buồn", "thất", "vọng", "chậm", "hoàn", "khiếu", "nại", "giá",
          "đắt", "mắc"}
# folded cues that collide with nothing common in praise
FOLDED = {"ko", "k", "kg", "khong", "hok", "hong", "bi", "chua", "nhung", "tuy", "hoi",
          "cham", "loi", "rach", "xau", "te", "sai", "thieu", "nham", "tiec", "buon",
          "doi", "tra", "hu", "mong", "tho", "kem", "lau", "tre", "muon", "dat"}
DATA = Path(__file__).resolve().parents[2] / "router" / "training_data"
# read by hand after the selection: a complaint or a doubt remains
DROPPED = {"tiki_praise-4348", "hanoi_praise-v486", "hanoi_praise-v744", "hanoi_praise-v1211"}
WORD = re.compile(r"[^\W_]+")
FOLD = {ord("đ"): "d", ord("Đ"): "d"}
TIKI_ASPECTS = ("appearance", "delivery", "fabric_quality", "others", "packaging", "price",
                "service", "size_fit")
HOTEL_ASPECTS = ("room", "service", "location", "price", "food_and_beverage", "amenities",
                 "cleanliness", "transportation", "policy", "others")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower().translate(FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("(*) Đánh giá không tính điểm", "")
    text = re.sub(r"\.\.\. Xem thêm$", "...", text.strip())
    return " ".join(text.split())


def has_cue(text: str) -> bool:
    if "?" in text:
        return True
    words = WORD.findall(unicodedata.normalize("NFC", text.lower()))
    return any(w in MARKED for w in words) or any(fold(w) in FOLDED for w in words)


def key(text: str) -> str:
    return " ".join(WORD.findall(fold(text)))


def tiki(path: Path) -> list[tuple[str, str]]:
    found = []
    with path.open(encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=1):
            marks = [row[f"sentiment_{a}"] for a in TIKI_ASPECTS if row[f"sentiment_{a}"]]
            text = clean(row["text"])
            if marks and all(m == "positive" for m in marks) and not has_cue(text) \
                    and len(WORD.findall(text)) >= 2:
                found.append((f"tiki_praise-{n}", text))
    return found


def hotel(path: Path, tag: str) -> list[tuple[str, str]]:
    found = []
    with path.open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            scores = [int(row[a]) for a in HOTEL_ASPECTS]
            text = clean(row["data"])
            if min(scores) >= 0 and sum(scores) >= 3 and len(text) <= 600 \
                    and not has_cue(text):
                found.append((f"hanoi_praise-{tag}{row['review_id']}", text))
    return found


def grams(text: str) -> frozenset[tuple[str, ...]]:
    words = key(text).split()
    return frozenset(tuple(words[i:i + 3]) for i in range(len(words) - 2))


def near(a: frozenset[tuple[str, ...]], seen: list[frozenset[tuple[str, ...]]]) -> bool:
    """Shares 60% or more of its word 3-grams with a text already taken (Jaccard)."""
    return bool(a) and any(len(a & b) >= 0.6 * len(a | b) for b in seen if b)


def pick(rows: list[tuple[str, str]], taken: set[str], seen: list[frozenset[tuple[str, ...]]],
         limit: int) -> list[tuple[str, str]]:
    """Distinct texts (folded, and not near-duplicates), in an order fixed by a hash of their
    ids, `limit` of them."""
    rows = sorted(rows, key=lambda r: hashlib.sha256(r[0].encode()).hexdigest())
    chosen = []
    for row_id, text in rows:
        k, g = key(text), grams(text)
        if k in taken or near(g, seen):
            continue
        taken.add(k)
        seen.append(g)
        chosen.append((row_id, text))
        if len(chosen) == limit:
            break
    return chosen


def existing(skip: set[str]) -> tuple[set[str], list[frozenset[tuple[str, ...]]]]:
    """The folded texts and word 3-grams of every data file but those named `skip`."""
    taken: set[str] = set()
    seen: list[frozenset[tuple[str, ...]]] = []
    for path in sorted(DATA.glob("*.jsonl")):
        if path.stem in skip:
            continue  # this script's own output, from an earlier run
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            taken.add(key(text))
            seen.append(grams(text))
    return taken, seen


def write(path: Path, source: str, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row_id, text, category in rows:
            f.write(json.dumps({"id": row_id, "channel": "web_comment", "text": text,
                                "expected": {"category": category, "topic": None},
                                "source": source}, ensure_ascii=False) + "\n")


def main(tiki_csv: str, val_csv: str, test_csv: str, out: str) -> None:
    taken, seen = existing({"tiki_praise", "hanoi_praise"})
    sets = {"tiki_praise": pick(tiki(Path(tiki_csv)), taken, seen, 560),
            "hanoi_praise": pick(hotel(Path(val_csv), "v") + hotel(Path(test_csv), "t"),
                                 taken, seen, 200)}
    for name, rows in sets.items():
        write(Path(out) / f"{name}.jsonl", name,
              [(row_id, text, "inquiry") for row_id, text in rows if row_id not in DROPPED])
        print(name, len([r for r in rows if r[0] not in DROPPED]))


if __name__ == "__main__":
    main(*sys.argv[1:5])
