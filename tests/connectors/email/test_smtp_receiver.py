"""Python's smtplib against our receiver, on loopback, with and without STARTTLS."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import pytest
import trustme

from connectors.email.intake import MailIntake
from connectors.email.smtp_receiver import start_receiver
from tests.connectors.email.conftest import Collected


def mail(subject: str = "Hàng bị vỡ", body: str = "Đơn DH20261234 bị vỡ",
         msgid: str = "<a1@gmail.com>", to: str = "hotro@shop.example.vn") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Nguyễn Lan <lan@gmail.com>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = msgid
    message.set_content(body)
    return message


@pytest.fixture
async def receiver(intake: MailIntake) -> AsyncIterator[int]:
    server = await start_receiver(intake, "127.0.0.1", 0, max_bytes=200_000)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_mail_for_our_mailbox_is_queued_before_250(receiver: int,
                                                        collected: Collected) -> None:
    def send() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", receiver) as client:
            return client.send_message(mail(to="hotro+12-abc@shop.example.vn"))

    assert await asyncio.to_thread(send) == {}
    [message] = collected.messages
    assert (message.external_id, message.sender, message.subject) == (
        "<a1@gmail.com>", "lan@gmail.com", "Hàng bị vỡ")
    assert message.recipient == "hotro@shop.example.vn"
    assert message.meta["reply_token"] == "12-abc"
    assert "raw_path" in message.meta


async def test_unknown_recipient_is_550(receiver: int, collected: Collected) -> None:
    def send() -> None:
        with smtplib.SMTP("127.0.0.1", receiver) as client:
            client.send_message(mail(to="nobody@shop.example.vn"))

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await asyncio.to_thread(send)
    assert refused.value.recipients["nobody@shop.example.vn"][0] == 550
    assert collected.messages == []


async def test_oversized_is_552_with_and_without_size(receiver: int,
                                                      collected: Collected) -> None:
    big = mail(body=("x" * 70 + "\n") * 4500)

    def with_size() -> None:
        with smtplib.SMTP("127.0.0.1", receiver) as client:
            client.send_message(big)  # smtplib declares SIZE=: refused at MAIL FROM

    def without_size() -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", receiver) as client:
            client.ehlo()
            client.mail("lan@gmail.com")
            client.rcpt("hotro@shop.example.vn")
            return client.data(big.as_bytes(policy=SMTP_POLICY))  # CRLF lines

    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        await asyncio.to_thread(with_size)
    assert refused.value.smtp_code == 552
    code, reply = await asyncio.to_thread(without_size)
    assert (code, reply) == (552, b"Error: Too much mail data")
    assert collected.messages == []


async def test_inbox_failure_is_451_so_the_sender_retries(receiver: int,
                                                          collected: Collected) -> None:
    collected.fail = True

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", receiver) as client:
            client.send_message(mail())

    with pytest.raises(smtplib.SMTPDataError) as failed:
        await asyncio.to_thread(send)
    assert failed.value.smtp_code == 451


async def test_replay_is_not_doubled(receiver: int, collected: Collected) -> None:
    def send() -> None:
        with smtplib.SMTP("127.0.0.1", receiver) as client:
            client.send_message(mail())
            client.send_message(mail())

    await asyncio.to_thread(send)
    assert len(collected.messages) == 1


async def test_starttls_and_auth(intake: MailIntake, collected: Collected,
                                 server_cert: tuple[str, str], tls_ca: trustme.CA) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*server_cert)
    server = await start_receiver(intake, "127.0.0.1", 0, max_bytes=200_000,
                                  tls_context=context, require_starttls=True,
                                  users={"forwarder": "s3cret"})
    port = server.sockets[0].getsockname()[1]
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)

    def plain() -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(mail())

    def secure(password: str) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.starttls(context=client_context)
            client.login("forwarder", password)
            client.send_message(mail(msgid="<tls@gmail.com>"))

    try:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            await asyncio.to_thread(plain)
        assert refused.value.smtp_code == 530  # STARTTLS required
        with pytest.raises(smtplib.SMTPAuthenticationError):
            await asyncio.to_thread(secure, "wrong")
        await asyncio.to_thread(secure, "s3cret")
    finally:
        server.close()
        await server.wait_closed()
    assert [m.external_id for m in collected.messages] == ["<tls@gmail.com>"]
