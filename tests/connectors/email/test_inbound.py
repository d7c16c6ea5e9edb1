"""From raw bytes to an InboundMessage: attachments, caps, bombs, robots, tokens."""

from __future__ import annotations

import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from connectors.email.intake import MailIntake
from connectors.email.parse import MAX_PARTS, parse
from tests.connectors.email.conftest import FIXTURES, Collected


def test_attachments_are_stored_with_checksum_and_capped(intake: MailIntake,
                                                         collected: Collected) -> None:
    mail = EmailMessage()
    mail["From"] = "lan@gmail.com"
    mail["To"] = "hotro@shop.example.vn"
    mail["Subject"] = "Ảnh hàng lỗi"
    mail["Message-ID"] = "<att@gmail.com>"
    mail.set_content("Ảnh đính kèm")
    mail.add_attachment(b"\x89PNG small", maintype="image", subtype="png", filename="loi.png")
    mail.add_attachment(b"x" * 2_000_000, maintype="application", subtype="pdf",
                        filename="hoa-don.pdf")
    for n in range(6):
        mail.add_attachment(b"n%d" % n, maintype="text", subtype="plain", filename=f"{n}.txt")
    intake.take(mail.as_bytes())
    [message] = collected.messages
    small, big, *rest = message.attachments
    assert (small.filename, small.content_type, small.size) == ("loi.png", "image/png", 10)
    assert small.stored_path and Path(small.stored_path).read_bytes() == b"\x89PNG small"
    assert len(small.sha256 or "") == 64
    assert big.size == 2_000_000 and big.stored_path is None  # over max_bytes: listed only
    assert [a.stored_path is not None for a in rest] == [True, True, True, False, False, False]
    assert Path(message.meta["raw_path"]).read_bytes().startswith(b"From: lan@gmail.com")


def test_attachment_bomb_is_cut_at_a_budget() -> None:
    bomb = EmailMessage()
    bomb["From"] = "bomb@example.com"
    bomb["Subject"] = "many parts"
    bomb.set_content("hello")
    for n in range(MAX_PARTS * 3):
        bomb.add_attachment(b"x", maintype="application", subtype="octet-stream",
                            filename=f"{n}.bin")
    started = time.monotonic()
    mail = parse(bomb.as_bytes())
    assert time.monotonic() - started < 5
    assert len(mail.attachments) < MAX_PARTS
    assert any("MIME parts" in p for p in mail.problems)
    assert mail.text == "hello"


def test_deep_nesting_is_cut() -> None:
    raw = b"From: a@b.c\r\nSubject: deep\r\n"
    for depth in range(60):
        raw += (b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' %
                (depth, depth))
    raw += b"Content-Type: text/plain\r\n\r\ninside\r\n"
    mail = parse(raw)
    assert any("nesting" in p for p in mail.problems)


def test_robot_and_own_mail_are_marked(intake: MailIntake, collected: Collected) -> None:
    own = EmailMessage()
    own["From"] = "Hỗ trợ <hotro@shop.example.vn>"
    own["To"] = "contact@shop.example.vn"
    own["Subject"] = "loop"
    own["Message-ID"] = "<own@shop>"
    own.set_content("x")
    intake.take(own.as_bytes())
    assert collected.messages[0].meta["own"] == "1"


@pytest.mark.parametrize(("name", "logged"), [
    ("no_headers.eml", "no From address"),
    ("nul_byte.eml", "NUL bytes removed"),
    ("broken_charset.eml", "unknown charset"),
    ("multipart_missing_boundary.eml", None),
    ("header_injection_subject.eml", None),
])
def test_bad_mail_is_taken_whole_with_a_clear_log_line(
        name: str, logged: str | None, intake: MailIntake, collected: Collected,
        caplog: pytest.LogCaptureFixture) -> None:
    """Broken mail is still a customer writing: it reaches the inbox, its raw bytes are kept
    exactly, and what was wrong with it is one warning line naming the message."""
    raw = (FIXTURES / name).read_bytes()
    assert intake.take(raw).new
    [message] = collected.messages
    assert Path(message.meta["raw_path"]).read_bytes() == raw
    assert message.text.strip() and "\x00" not in message.text
    assert "\r" not in (message.subject or "") and "\n" not in (message.subject or "")
    if logged:
        [line] = [r.getMessage() for r in caplog.records if r.name == "switchboard.email"]
        assert message.external_id in line and logged in line
