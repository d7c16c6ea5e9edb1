"""Our SMTP sender against an aiosmtpd sink that records what it gets."""

from __future__ import annotations

import dataclasses
import email
import email.policy

import pytest

from connectors.email.sender import Relay, SmtpSender
from connectors.outbound import SendFailed
from tests.connectors.email.conftest import Sink
from tickets.messages import Channel, OutboundMessage


def outbound(subject: str = "Re: [#MC-7] Hàng bị vỡ", automatic: bool = False) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.EMAIL, recipient="lan@gmail.com", ticket_ref="MC-7", subject=subject,
        text="Chào chị Lan,\nShop sẽ đổi hàng mới.", html="<p>Chào chị Lan</p>",
        automatic=automatic,
        thread={"message_id": "<mc-7.abc@shop.example.vn>", "from_address":
                "hotro@shop.example.vn", "from_name": "Hỗ trợ", "reply_to":
                "hotro+7-0123456789@shop.example.vn", "in_reply_to": "<c1@gmail.com>",
                "references": ["<c0@gmail.com>", "<c1@gmail.com>"]})


async def test_mail_carries_threading_and_both_parts(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    sender = SmtpSender(Relay("127.0.0.1", port, starttls=False))
    assert await sender.send(outbound(automatic=True), "k1") == "<mc-7.abc@shop.example.vn>"
    [envelope] = handler.received
    assert envelope.rcpt_tos == ["lan@gmail.com"]
    mail = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert mail["Subject"] == "Re: [#MC-7] Hàng bị vỡ"
    assert mail["In-Reply-To"] == "<c1@gmail.com>"
    assert mail["References"] == "<c0@gmail.com> <c1@gmail.com>"
    assert mail["Reply-To"] == "hotro+7-0123456789@shop.example.vn"
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail.get_body(("plain",)).get_content().startswith("Chào chị Lan")
    assert "<p>Chào chị Lan</p>" in mail.get_body(("html",)).get_content()


async def test_a_person_s_answer_is_not_marked_automatic(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    await SmtpSender(Relay("127.0.0.1", port, starttls=False)).send(outbound(), "k")
    mail = email.message_from_bytes(handler.received[0].original_content,
                                    policy=email.policy.default)
    assert mail["Auto-Submitted"] is None


async def test_an_answer_written_as_text_gets_an_html_part_too(sink: tuple[Sink, int]) -> None:
    """Agents answer from Slack and suppliers from the portal in plain text: the mail still
    has both parts, the HTML one escaped, with the text's paragraphs and line breaks."""
    handler, port = sink
    text = "Chào chị Lan,\nShop sẽ đổi hàng <mới> & gửi lại.\n\nTrân trọng,\nHỗ trợ"
    plain = dataclasses.replace(outbound(), text=text, html=None)
    await SmtpSender(Relay("127.0.0.1", port, starttls=False)).send(plain, "k")
    mail = email.message_from_bytes(handler.received[0].original_content,
                                    policy=email.policy.default)
    assert mail.get_content_type() == "multipart/alternative"
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip() == text
    html = mail.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert ("<p>Chào chị Lan,<br>\nShop sẽ đổi hàng &lt;mới&gt; &amp; gửi lại.</p>\n"
            "<p>Trân trọng,<br>\nHỗ trợ</p>") in html


async def test_header_injection_in_subject_is_neutralised(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    await SmtpSender(Relay("127.0.0.1", port, starttls=False)).send(
        outbound(subject="Re: hi\r\nBcc: attacker@example.com"), "k")
    [envelope] = handler.received
    assert envelope.rcpt_tos == ["lan@gmail.com"]
    mail = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert mail["Bcc"] is None
    assert mail["Subject"] == "Re: hi Bcc: attacker@example.com"


async def test_refusals_are_permanent_and_outages_are_retried(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    handler.refuse = "554 5.7.1 rejected"
    with pytest.raises(SendFailed) as refused:
        await SmtpSender(Relay("127.0.0.1", port, starttls=False)).send(outbound(), "k")
    assert refused.value.permanent
    with pytest.raises(SendFailed) as down:
        await SmtpSender(Relay("127.0.0.1", 1, starttls=False, timeout=2)).send(outbound(), "k")
    assert not down.value.permanent
