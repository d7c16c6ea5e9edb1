"""Mail end to end: real SMTP in, the pipeline, the outbox, real SMTP out (to a sink)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.email.sender import Relay, SmtpSender
from connectors.email.smtp_receiver import start_receiver
from switchboard.bootstrap import Runtime
from switchboard.outbox.compose import email_thread
from switchboard.outbox.dispatcher import Dispatcher
from switchboard.wiring.email import make_intake
from tests.connectors.email.conftest import FIXTURES, Sink
from tickets import queries
from tickets.clock import ManualClock
from tickets.schema import identities, outbox, tickets


@dataclass
class Mail:
    port: int
    sink: Sink
    rt: Runtime
    dispatcher: Dispatcher

    async def send(self, message: EmailMessage) -> None:
        def go() -> None:
            with smtplib.SMTP("127.0.0.1", self.port) as client:
                client.send_message(message)
        await asyncio.to_thread(go)

    async def settle(self) -> None:
        """Run the pipeline and the dispatcher until both have nothing left."""
        while await asyncio.to_thread(self.rt.pipeline.run_batch):
            pass
        while await self.dispatcher.run_once():
            pass

    def sent(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=email.policy.default)
                for e in self.sink.received]  # type: ignore[misc]

    def ticket(self, number: int) -> dict:  # type: ignore[type-arg]
        with self.rt.db.read() as conn:
            found = queries.get_ticket(conn, "MC", number)
        assert found is not None
        return found

    def ticket_count(self) -> int:
        with self.rt.db.read() as conn:
            return len(conn.execute(select(tickets.c.id)).all())


@pytest.fixture
async def mail(runtime: Runtime, tmp_path: Path, sink: tuple[Sink, int]) -> AsyncIterator[Mail]:
    settings = runtime.settings
    email_settings = settings.email.model_copy(update={
        "raw_dir": str(tmp_path / "raw"),
        "attachments": settings.email.attachments.model_copy(
            update={"dir": str(tmp_path / "files")})})
    runtime.settings = settings.model_copy(update={"email": email_settings})
    intake = make_intake(runtime.settings, runtime.db, runtime.clock)
    server = await start_receiver(intake, "127.0.0.1", 0, max_bytes=1_000_000)
    handler, sink_port = sink
    dispatcher = Dispatcher(settings.outbox, runtime.db, runtime.clock,
                            {"email": SmtpSender(Relay("127.0.0.1", sink_port, starttls=False))})
    yield Mail(server.sockets[0].getsockname()[1], handler, runtime, dispatcher)
    server.close()
    await server.wait_closed()


def customer_mail(body: str, *, subject: str = "Đơn hàng bị vỡ", msgid: str = "<c1@gmail.com>",
                  sender: str = "lan@gmail.com", to: str = "hotro@shop.example.vn",
                  **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Nguyễn Lan <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = msgid
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def test_new_mail_gets_a_threaded_vietnamese_acknowledgement(mail: Mail) -> None:
    await mail.send(customer_mail("Hàng giao tới bị vỡ, shop xử lý giúp em."))
    await mail.settle()
    [ack] = mail.sent()
    assert ack["To"] == "lan@gmail.com"
    assert ack["From"].addresses[0].addr_spec == "hotro@shop.example.vn"
    assert ack["Subject"] == "Re: [#MC-1] Đơn hàng bị vỡ"
    assert ack["In-Reply-To"] == "<c1@gmail.com>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Reply-To"].addresses[0].addr_spec.startswith("hotro+1-")
    assert "Chào Nguyễn Lan" in ack.get_body(("plain",)).get_content()
    ticket = mail.ticket(1)
    assert [m["direction"] for m in ticket["messages"]] == ["in", "out"]
    assert [j["action"] for j in ticket["journal"]][-2:] == ["acknowledgement", "delivered"]


async def test_english_mail_gets_an_english_acknowledgement(mail: Mail) -> None:
    await mail.send(customer_mail("Hello, my order has not arrived and I would like a refund.",
                                  subject="Where is my order?"))
    await mail.settle()
    assert "We have received your request" in mail.sent()[0].get_body(("plain",)).get_content()


async def test_replies_thread_by_message_id_token_and_reference(mail: Mail) -> None:
    await mail.send(customer_mail("Hàng bị vỡ"))
    await mail.settle()
    ack = mail.sent()[0]
    await mail.send(customer_mail("Em gửi thêm ảnh", subject="Re: Đơn hàng", msgid="<c2@gmail.com>",
                                  In_Reply_To=ack["Message-ID"]))
    # a provider rewrote our Message-ID: only the Reply-To plus-address is left
    token_address = ack["Reply-To"].addresses[0].addr_spec
    await mail.send(customer_mail("Còn đây nữa", subject="Re: x", msgid="<c3@gmail.com>",
                                  to=token_address, In_Reply_To="<rewritten@outlook.com>"))
    await mail.send(customer_mail("Nhắc lại", subject="Re: [#MC-1] Đơn hàng",
                                  msgid="<c4@gmail.com>"))
    await mail.settle()
    assert mail.ticket_count() == 1
    assert len([m for m in mail.ticket(1)["messages"] if m["direction"] == "in"]) == 4
    assert len(mail.sent()) == 1  # follow-ups are not acknowledged again


async def test_a_stranger_never_lands_in_someone_else_s_ticket(mail: Mail) -> None:
    await mail.send(customer_mail("Hàng bị vỡ"))
    await mail.settle()
    ack = mail.sent()[0]
    await mail.send(customer_mail("Tôi cũng bị!", sender="other@yahoo.com", msgid="<o1@yahoo.com>",
                                  subject="Re: [#MC-1] Đơn hàng bị vỡ",
                                  In_Reply_To=ack["Message-ID"]))
    await mail.settle()
    assert mail.ticket_count() == 2
    assert mail.ticket(2)["messages"][0]["author"] == "Nguyễn Lan"


async def test_someone_copied_may_answer_into_the_ticket(mail: Mail) -> None:
    await mail.send(customer_mail("Hàng bị vỡ", Cc="chong@gmail.com"))
    await mail.settle()
    await mail.send(customer_mail("Tôi là chồng chị Lan, bổ sung thông tin",
                                  sender="chong@gmail.com", msgid="<h1@gmail.com>",
                                  subject="Re: [#MC-1] Đơn hàng"))
    await mail.settle()
    assert mail.ticket_count() == 1


async def test_robots_are_recorded_never_answered_never_ticketed(mail: Mail) -> None:
    await mail.send(customer_mail("Hàng bị vỡ"))
    await mail.settle()
    ack = mail.sent()[0]
    await mail.send(customer_mail("I am out of the office until Monday.", subject="Auto: Re",
                                  msgid="<ooo@gmail.com>", Auto_Submitted="auto-replied",
                                  In_Reply_To=ack["Message-ID"]))
    bounce = EmailMessage()
    bounce["From"] = "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"
    bounce["To"] = "hotro@shop.example.vn"
    bounce["Subject"] = "Delivery Status Notification (Failure)"
    bounce["Message-ID"] = "<bounce1@google.com>"
    bounce.set_content(f"Your message could not be delivered.\n\nMessage-ID: {ack['Message-ID']}")
    bounce.add_attachment(f"Message-ID: {ack['Message-ID']}\r\nSubject: x\r\n".encode(),
                          maintype="text", subtype="rfc822-headers")
    bounce.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"; '
                          f'boundary="{bounce.get_boundary()}"')
    await mail.send(bounce)
    await mail.send(customer_mail("loop?", sender="hotro@shop.example.vn", msgid="<own@x>"))
    await mail.send(customer_mail("Chuyển tiếp cho bộ phận hỗ trợ, khách hỏi lại ạ",
                                  sender="contact@shop.example.vn", msgid="<fwd@shop>",
                                  subject=f"Fwd: {ack['Subject']}"))
    await mail.send(customer_mail("vacation", sender="boss@corp.vn", msgid="<v1@corp.vn>",
                                  Precedence="bulk"))
    # an auto-reply to an ack whose Message-ID the customer's provider rewrote: the
    # reference in the subject still finds the ticket
    await mail.send(customer_mail("Tôi đang nghỉ phép.", subject=f"Tự động trả lời: "
                                  f"{ack['Subject']}", msgid="<ooo2@outlook.com>",
                                  X_Autoreply="yes", In_Reply_To="<AM0PR@outlook.com>"))
    # a stranger's "auto-reply" quoting the reference (anyone can type one): not recorded
    await mail.send(customer_mail("Click here", subject=f"Auto: {ack['Subject']}",
                                  sender="someone@elsewhere.example", msgid="<x@elsewhere>",
                                  Auto_Submitted="auto-replied"))
    await mail.settle()
    assert mail.ticket_count() == 1
    assert len(mail.sent()) == 1
    assert all(m["author"] != "someone@elsewhere.example" for m in mail.ticket(1)["messages"])
    # what the robots and our colleague wrote does not change who the answers go to
    with mail.rt.db.read() as conn:
        thread = email_thread(conn, mail.rt.settings, 1)
    assert thread is not None and thread.customer_address == "lan@gmail.com"
    assert thread.in_reply_to == "<c1@gmail.com>"
    actions = [j["action"] for j in mail.ticket(1)["journal"]]
    assert "auto-reply" in actions and "bounce" in actions
    # a colleague's forward from contact@ threads by the reference in its subject: kept on
    # the ticket, not answered (the one mail sent is still the first acknowledgement)
    assert "own-mail" in actions and actions.count("auto-reply") == 2
    assert any("Chuyển tiếp cho bộ phận hỗ trợ" in m["text"]
               for m in mail.ticket(1)["messages"])


async def test_acknowledgements_are_rate_limited(mail: Mail, clock: ManualClock) -> None:
    for i in range(12):
        await mail.send(customer_mail(f"Yêu cầu số {i}", subject=f"Yêu cầu {i}",
                                      msgid=f"<r{i}@gmail.com>"))
    for i in range(3):
        await mail.send(customer_mail("lặp lại", subject="Cùng một chủ đề", sender="b@gmail.com",
                                      msgid=f"<s{i}@gmail.com>"))
    await mail.send(customer_mail("không cần trả lời tự động", sender="c@outlook.com",
                                  msgid="<x1@outlook.com>", X_Auto_Response_Suppress="All"))
    await mail.settle()
    recipients = [m["To"] for m in mail.sent()]
    assert recipients.count("lan@gmail.com") == 10
    assert recipients.count("b@gmail.com") == 2
    assert "c@outlook.com" not in recipients
    assert mail.ticket_count() == 16
    clock.advance(timedelta(hours=4))
    await mail.send(customer_mail("sau 4 tiếng", subject="Mới", msgid="<late@gmail.com>"))
    await mail.settle()
    assert [m["To"] for m in mail.sent()].count("lan@gmail.com") == 11


async def test_relay_down_then_up_sends_exactly_once(mail: Mail, clock: ManualClock) -> None:
    mail.sink.refuse = "421 4.3.2 try later"
    await mail.send(customer_mail("Hàng bị vỡ"))
    await mail.settle()
    assert mail.sent() == []
    with mail.rt.db.read() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.attempts, outbox.c.last_error)).one()
    assert (row.status, row.attempts) == ("pending", 1) and "421" in row.last_error
    mail.sink.refuse = None
    await mail.settle()
    assert mail.sent() == []  # not before the back-off
    clock.advance(timedelta(minutes=1))
    await mail.settle()
    clock.advance(timedelta(hours=2))
    await mail.settle()
    assert len(mail.sent()) == 1
    assert mail.ticket(1)["messages"][1]["direction"] == "out"


async def test_agent_reply_through_the_api_threads_and_is_marked_sent(mail: Mail) -> None:
    import httpx

    from switchboard.web import create_app

    await mail.send(customer_mail("Hàng bị vỡ"))
    await mail.settle()
    app = create_app(mail.rt, run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
        response = await client.post("/api/tickets/MC-1/replies",
                                     json={"text": "Chào chị Lan, shop gửi hàng mới ngay."},
                                     headers={"Authorization": "Bearer agent-secret"})
        assert response.status_code == 202, response.text
        assert (await client.post("/api/tickets/MC-9/replies", json={"text": "x"},
                                  headers={"Authorization": "Bearer agent-secret"})
                ).status_code == 404
    await mail.settle()
    ack, answer = mail.sent()
    assert answer["Subject"] == "Re: [#MC-1] Đơn hàng bị vỡ"
    assert answer["Auto-Submitted"] is None
    assert answer["In-Reply-To"] == "<c1@gmail.com>"
    assert answer.get_body(("plain",)).get_content().startswith("Chào chị Lan, shop gửi")
    ticket = mail.ticket(1)
    assert ticket["messages"][-1]["direction"] == "out"
    actions = [j["action"] for j in ticket["journal"]]
    assert actions[-4:] == ["replied", "sla", "first_response", "delivered"]
    assert ticket["journal"][-3]["reason"] == "first_response met"
    assert ticket["journal"][-4]["actor"] == "agent"
    assert ticket["first_response_at"] is not None


async def test_mail_without_a_sender_becomes_a_ticket_but_gets_no_answer(
        mail: Mail) -> None:
    """A mail with no From (a broken form mailer) is kept and routed, but there is no one
    to acknowledge: nothing goes to a made-up address."""
    raw = (FIXTURES / "no_headers.eml").read_bytes()

    def go() -> None:
        with smtplib.SMTP("127.0.0.1", mail.port) as client:
            client.sendmail("forms@shop.example.vn", ["hotro@shop.example.vn"], raw)

    await asyncio.to_thread(go)
    await mail.settle()
    assert mail.ticket_count() == 1 and mail.sent() == []
    journal = mail.ticket(1)["journal"]
    assert any("the mail has no sender address" in j["reason"] for j in journal)


async def test_a_web_form_s_mail_belongs_to_the_person_in_reply_to(mail: Mail) -> None:
    """The shop's contact form sends every visitor's message From one no-reply address,
    with the visitor in Reply-To: each visitor is their own customer, answered at their
    own address, and nobody is merged into anybody."""
    for n, (name, address) in enumerate([("Nguyễn Lan", "lan@gmail.com"),
                                         ("Trần Minh", "minh@yahoo.com")]):
        await mail.send(customer_mail(f"Em là {name}, voucher của em không dùng được ạ",
                                      sender="no-reply@forms.example.vn",
                                      msgid=f"<form{n}@forms.example.vn>",
                                      subject=f"Liên hệ từ website #{n}",
                                      Reply_To=f"{name} <{address}>"))
    await mail.settle()
    first, second = mail.ticket(1), mail.ticket(2)
    assert first["customer_id"] != second["customer_id"]
    assert [m["To"] for m in mail.sent()] == ["lan@gmail.com", "minh@yahoo.com"]
    with mail.rt.db.read() as conn:
        known = {r.value: r.customer_id for r in conn.execute(select(identities))}
    assert "no-reply@forms.example.vn" not in known
    assert known["lan@gmail.com"] == first["customer_id"]
    assert known["minh@yahoo.com"] == second["customer_id"]
    # a form set up to send From our own mailbox is the visitor writing, not our own mail
    await mail.send(customer_mail("Em là Hoa, cho em hỏi giờ mở cửa ạ",
                                  sender="hotro@shop.example.vn", msgid="<form2@shop>",
                                  subject="Liên hệ từ website #2",
                                  Reply_To="Lê Hoa <hoa@gmail.com>"))
    await mail.settle()
    assert mail.ticket_count() == 3
    assert [m["To"] for m in mail.sent()][-1] == "hoa@gmail.com"


async def test_a_no_reply_mailer_s_text_does_not_merge_its_visitors(mail: Mail) -> None:
    """A form mailer without Reply-To, the visitor's address only in the text: the
    addresses in a no-reply mailer's text are not its own, so nobody is merged into anybody,
    and nothing is sent to an address that takes no answers."""
    await mail.send(customer_mail("Hàng bị vỡ, liên hệ em qua lan@gmail.com", msgid="<c@x>"))
    await mail.settle()
    assert [m["To"] for m in mail.sent()] == ["lan@gmail.com"]  # Lan, a customer already
    for n, address in enumerate(["lan@gmail.com", "minh@yahoo.com"]):
        await mail.send(customer_mail(f"Họ tên: Khách {n}\nEmail: {address}\n"
                                      "Nội dung: voucher không dùng được",
                                      sender="noreply@forms.example.vn",
                                      msgid=f"<nr{n}@forms.example.vn>",
                                      subject=f"Form liên hệ #{n}"))
    await mail.settle()
    assert len(mail.sent()) == 1  # no acknowledgement to the no-reply address
    with mail.rt.db.read() as conn:
        owners = {r.value: r.customer_id for r in conn.execute(select(identities))}
    assert owners["lan@gmail.com"] == mail.ticket(1)["customer_id"]
    assert owners["noreply@forms.example.vn"] != owners["lan@gmail.com"]
    assert "minh@yahoo.com" not in owners
    journal = mail.ticket(2)["journal"]
    assert any("is a no-reply address" in j["reason"] for j in journal)
    assert any("takes no answers (no-reply)" in j["reason"] for j in journal)
