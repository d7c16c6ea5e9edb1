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
from switchboard.settings import ConfigError, load_settings
from tests.conftest import CONFIG
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


async def test_a_20_mb_mail_is_refused_at_the_default_cap_and_logged(
        intake: MailIntake, collected: Collected, caplog: pytest.LogCaptureFixture) -> None:
    """The issue's 20 MB message, against the default 15 MiB cap: refused with 552 whether
    or not the client declares SIZE (the sending server keeps it and bounces it to its
    sender, so nothing is lost), each refusal one log line; the server takes the next mail."""
    cap = load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "x"}).email.receiver
    server = await start_receiver(intake, "127.0.0.1", 0, max_bytes=cap.max_message_bytes)
    port = server.sockets[0].getsockname()[1]
    big = mail(body=("x" * 99 + "\n") * 200_000, msgid="<big@gmail.com>")  # 20 MB

    def declared() -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(big)

    def undeclared() -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            client.mail("lan@gmail.com")
            client.rcpt("hotro@shop.example.vn")
            return client.data(big.as_bytes(policy=SMTP_POLICY))

    def small() -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(mail(msgid="<after@gmail.com>"))

    try:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            await asyncio.to_thread(declared)
        assert refused.value.smtp_code == 552
        assert (await asyncio.to_thread(undeclared))[0] == 552
        await asyncio.to_thread(small)
    finally:
        server.close()
        await server.wait_closed()
    assert [m.external_id for m in collected.messages] == ["<after@gmail.com>"]
    refusals = [r.getMessage() for r in caplog.records if "refused a mail from" in
                r.getMessage()]
    assert len(refusals) == 2 and all(" 552 " in r and "127.0.0.1" in r for r in refusals)
    assert "from lan@gmail.com" in refusals[1] and "to hotro@shop.example.vn" in refusals[1]


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


async def test_auth_required_refuses_mail_from_clients_that_did_not_log_in(
        intake: MailIntake, collected: Collected, server_cert: tuple[str, str],
        tls_ca: trustme.CA) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*server_cert)
    server = await start_receiver(intake, "127.0.0.1", 0, max_bytes=200_000,
                                  tls_context=context, users={"forwarder": "s3cret"},
                                  auth_required=True)
    port = server.sockets[0].getsockname()[1]
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)

    def send(login: bool, msgid: str) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.starttls(context=client_context)
            if login:
                client.login("forwarder", "s3cret")
            client.send_message(mail(msgid=msgid))

    try:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            await asyncio.to_thread(send, False, "<anonymous@gmail.com>")
        assert refused.value.smtp_code == 530  # over TLS, but not logged in
        await asyncio.to_thread(send, True, "<forwarded@gmail.com>")
    finally:
        server.close()
        await server.wait_closed()
    assert [m.external_id for m in collected.messages] == ["<forwarded@gmail.com>"]


@pytest.mark.parametrize(("receiver", "error"), [
    ({"auth_required": True}, "auth_required needs users"),
    ({"users": {"forwarder": "x"}}, "AUTH is offered only over TLS"),
])
def test_auth_settings_that_could_never_work_are_refused(receiver: dict[str, object],
                                                         error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "x"},
                      overrides={f"email.receiver.{k}": v for k, v in receiver.items()})
    # a receiver that is off is not checked: its settings stop nothing else from starting
    load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "x"},
                  overrides={"email.receiver.enabled": False,
                             **{f"email.receiver.{k}": v for k, v in receiver.items()}})
