"""Every message of the corpus (tests/connectors/email/fixtures, sources in SOURCES.md) is
parsed and checked against the facts written down for it in expected.json."""

from __future__ import annotations

import json
import unicodedata

import pytest

from connectors.email.parse import parse
from connectors.email.replies import latest_reply
from tests.connectors.email.conftest import FIXTURES

EXPECTED: dict[str, dict] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))  # type: ignore[type-arg]


def test_every_fixture_has_expectations() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str) -> None:
    want = EXPECTED[name]
    mail = parse((FIXTURES / name).read_bytes())
    assert mail.message_id == want["message_id"]
    assert mail.from_address == want["from"]
    assert mail.subject == want["subject"]
    assert list(mail.in_reply_to) == want["in_reply_to"]
    assert list(dict.fromkeys(mail.references)) == want["references"]
    assert mail.auto == want["auto"]
    assert mail.bounced_message_id == want["bounced_message_id"]
    assert mail.suppress_auto_response == want["suppress_auto_response"]
    text = unicodedata.normalize("NFC", mail.text)
    for snippet in want["text_contains"]:
        assert snippet in text, f"{snippet!r} not in the text"
    new = latest_reply(mail.text)
    for snippet in want.get("new_text_excludes", []):
        assert snippet not in new, f"{snippet!r} should have been trimmed"
    got = [{"filename": a.filename, "content_type": a.content_type} for a in mail.attachments]
    assert got == want["attachments"]
    assert "\x00" not in mail.text and "\r" not in mail.subject and "\n" not in mail.subject


@pytest.mark.parametrize("text", [
    "Chào shop\r\n-- \r\nNguyễn Văn A\r\n0912 345 678",   # a signature line in CRLF mail
    "Chào shop\n\u2003> đã viết trước đó",                  # a quote behind odd spaces
    "Chào shop\r\n\r\nFrom: Hỗ trợ <hotro@shop.example.vn>\r\nSent: Monday\r\n"
    "To: an@example.com\r\nSubject: Đơn hàng\r\n\r\nnội dung cũ",
])
def test_the_quick_check_lets_through_what_the_reply_parser_trims(text: str) -> None:
    new = latest_reply(text)
    assert new.startswith("Chào shop") and new != text.strip()


def test_a_null_return_path_is_a_bounce_unless_the_mail_says_it_is_an_auto_reply() -> None:
    """RFC 3834 asks auto-replies to go out with `MAIL FROM:<>`, so `Return-Path: <>` alone
    does not make a bounce: an out-of-office that says what it is stays an auto-reply."""
    head = (b"Return-Path: <>\r\nFrom: Lan <lan@gmail.com>\r\nTo: hotro@shop.example.vn\r\n"
            b"Subject: Re: [#MC-7] \xc4\x90\xc6\xa1n h\xc3\xa0ng\r\n"
            b"Message-ID: <ooo@gmail.com>\r\n")
    body = b"\r\nT\xc3\xb4i \xc4\x91ang ngh\xe1\xbb\x89 ph\xc3\xa9p.\r\n"
    assert parse(head + b"Auto-Submitted: auto-replied\r\n" + body).auto == "auto-reply"
    assert parse(head + body).auto == "bounce"
    assert parse(head.replace(b"Return-Path: <>\r\n", b"") + body).auto is None
