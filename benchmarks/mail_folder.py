"""A folder of typical customer mail for the email benchmarks.

    python -m benchmarks.mail_folder OUT_DIR [--messages 5000]

Texts come from the labelled development set; about a third are replies (In-Reply-To an
earlier message of the same customer, with the earlier text quoted), one in ten carries a
small PDF attachment, and the mix of encodings is what mail clients send: UTF-8 quoted-
printable and base64, a few windows-1258. Deterministic for a given count.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n" + b"0" * 20_000 + b"\n%%EOF\n"


def build(out: Path, count: int) -> list[Path]:
    rng = random.Random(5)
    lines = [json.loads(x) for x in (ROOT / "tests/data/classify/devset.jsonl")
             .read_text(encoding="utf-8").splitlines() if x.strip()]
    out.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    earlier: dict[int, tuple[str, str]] = {}
    paths = []
    for n in range(count):
        line = lines[n % len(lines)]
        customer = rng.randrange(count // 3 + 1)
        mail = EmailMessage()
        mail["From"] = f"Khách {customer} <khach{customer}@gmail.com>"
        mail["To"] = "hotro@shop.example.vn" if n % 4 else "contact@shop.example.vn"
        msgid = f"<bench{n}@mail.gmail.com>"
        mail["Message-ID"] = msgid
        mail["Date"] = format_datetime(start + timedelta(minutes=n))
        text = line["text"]
        subject = line.get("subject") or text[:50]
        if customer in earlier and rng.random() < 0.6:
            previous_id, previous_text = earlier[customer]
            mail["In-Reply-To"] = previous_id
            mail["References"] = previous_id
            subject = "Re: " + subject
            quoted = "\n".join("> " + q for q in previous_text.splitlines())
            text = (f"{text}\n\nVào Th 2, 2 thg 11, 2026 lúc 10:00 Khách <khach{customer}"
                    f"@gmail.com> đã viết:\n{quoted}")
        mail["Subject"] = subject
        charset = "windows-1258" if n % 25 == 0 else "utf-8"
        try:
            mail.set_content(text, charset=charset)
        except (UnicodeEncodeError, LookupError):
            mail.set_content(text)
        if n % 10 == 0:
            mail.add_attachment(PDF, maintype="application", subtype="pdf",
                                filename=f"hoa-don-{n}.pdf")
        earlier[customer] = (msgid, line["text"])
        path = out / f"{n:06d}.eml"
        path.write_bytes(mail.as_bytes(policy=SMTP))
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--messages", type=int, default=5000)
    options = parser.parse_args()
    print(f"{len(build(options.out, options.messages))} messages in {options.out}")
