"""Robots (bounces, complaints, auto-replies, sending services' JSON) are told from people.

Two public corpora judge it (tests/connectors/email/corpus, sources in each SOURCES.md):
real robot mail from many mail systems must be recognised, and real people's mail — with
constructed Vietnamese customer mail whose subjects look like a robot's — never. The rules
one by one follow, then a robot's mail through the whole flow."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from connectors.email.parse import parse
from tests.connectors.email.conftest import FIXTURES
from tests.connectors.email.test_flow import Mail, customer_mail, mail  # noqa: F401

CORPUS = Path(__file__).parent / "corpus"
ROBOTS, HUMANS = CORPUS / "robots", CORPUS / "human"
EXPECTED: dict[str, str] = json.loads((ROBOTS / "expected.json").read_text(encoding="utf-8"))
FIXTURE_FACTS: dict[str, dict] = json.loads(  # type: ignore[type-arg]
    (FIXTURES / "expected.json").read_text(encoding="utf-8"))


def _mails(folder: Path) -> list[Path]:
    """The mails of a corpus: the files of its source folders (licences sit beside them)."""
    return sorted(p for p in folder.glob("*/*") if p.suffix in (".eml", ".txt"))


def _source(path: Path) -> str:
    """The mail system a corpus file comes from: sisimai names its files after it."""
    if path.parent.name == "sisimai":
        return re.sub(r"-\d+$", "", path.stem)
    return path.parent.name


def test_the_robot_corpus_is_broad_and_every_file_has_a_kind() -> None:
    files = _mails(ROBOTS)
    assert sorted(p.relative_to(ROBOTS).as_posix() for p in files) == sorted(EXPECTED)
    assert len(files) >= 300
    sources = {_source(p) for p in files}
    for system in ("lhost-postfix", "lhost-exim", "lhost-qmail", "lhost-sendmail",
                   "lhost-gmail", "lhost-office365", "lhost-yahoo", "lhost-amazonses",
                   "lhost-zoho", "rhost-apple", "lhost-sendgrid", "rfc3834", "arf"):
        assert system in sources
    assert len(sources) >= 10


def test_every_corpus_folder_is_accounted_for_in_its_sources() -> None:
    for corpus in (ROBOTS, HUMANS):
        listed = (corpus / "SOURCES.md").read_text(encoding="utf-8")
        for folder in {p.parent.name for p in _mails(corpus)}:
            assert f"`{folder}/`" in listed, f"{corpus.name}/{folder} has no SOURCES.md row"


def test_at_least_99_percent_of_real_robots_are_recognised_as_the_right_kind() -> None:
    files = _mails(ROBOTS) + [FIXTURES / n for n, f in FIXTURE_FACTS.items() if f["auto"]]
    missed, wrong = [], []
    for path in files:
        got = parse(path.read_bytes()).auto
        want = EXPECTED.get(path.relative_to(ROBOTS).as_posix()) if path.is_relative_to(
            ROBOTS) else FIXTURE_FACTS[path.name]["auto"]
        if got is None:
            missed.append(path.name)
        elif got != want:
            wrong.append(f"{path.name}: {got} (want {want})")
    assert len(missed) <= len(files) // 100, f"{len(missed)}/{len(files)} missed: {missed}"
    assert not wrong


def test_no_persons_mail_is_taken_for_a_robot() -> None:
    files = _mails(HUMANS) + [FIXTURES / n for n, f in FIXTURE_FACTS.items() if not f["auto"]]
    assert len(files) >= 150
    robots = [f"{p.relative_to(p.parent.parent)}: {m.auto}" for p in files
              if (m := parse(p.read_bytes())).auto]
    assert robots == []


def test_a_bounce_names_the_message_it_returns() -> None:
    """Where the returned mail's Message-ID is anywhere in the report (its message/rfc822
    part, text/rfc822-headers, or headers quoted in a plain-text bounce), it is found, so the
    bounce lands on that message's ticket."""
    carrying, found = [], []
    for path in _mails(ROBOTS):
        raw = path.read_bytes()
        parsed = parse(raw)
        if parsed.auto not in ("bounce", "complaint"):
            continue
        ids = {i.decode() for i in re.findall(rb"^[ \t>]*Message-I[dD]:[ \t]*(<[^<>\s]+>)", raw,
                                               re.I | re.M)} - {parsed.message_id}
        if ids:
            carrying.append(path.name)
            if parsed.bounced_message_id in ids:
                found.append(path.name)
    assert len(carrying) >= 300
    assert len(found) >= len(carrying) * 99 // 100, sorted(set(carrying) - set(found))


# --- the rules one by one ------------------------------------------------------------------

def _mail(subject: str = "Đơn hàng DH1", body: str = "Chào shop, em hỏi đơn hàng.",
          sender: str = "Lan <lan@gmail.com>", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "hotro@shop.example.vn"
    message["Subject"] = subject
    message["Message-ID"] = "<m1@gmail.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


@pytest.mark.parametrize(("header", "value"), [
    ("Auto-Submitted", "auto-replied"),
    ("Auto-Submitted", "Auto-Generated"),
    ("Auto-Submitted", "auto-replied (vacation)"),
    ("Auto-Submitted", "auto-notified"),
    ("X-Autoreply", "yes"),
    ("X-Autorespond", "Thank you"),
    ("X-Autogenerated", "Reply"),
    ("X-Apple-Action", "VACATION"),
    ("Precedence", "auto_reply"),
    ("Precedence", "bulk"),
    ("Precedence", "junk"),
    ("Precedence", "list"),
])
def test_headers_that_say_a_machine_answered(header: str, value: str) -> None:
    assert parse(_mail(**{header: value})).auto == "auto-reply"


@pytest.mark.parametrize(("header", "value"), [
    ("Auto-Submitted", "no"),
    ("Auto-Submitted", "  No "),
    ("X-Autoreply", "no"),
    ("X-Auto-Response-Suppress", "All"),  # a request, sent on ordinary mail too
    ("X-Apple-Action", "FORWARD"),
])
def test_headers_that_do_not(header: str, value: str) -> None:
    assert parse(_mail(**{header: value})).auto is None


def test_a_persons_post_passed_on_by_a_list_is_not_a_robot_but_a_newsletter_is() -> None:
    """Lists and groups write Precedence on every post so that no auto-responder answers the
    list; a person still wrote it. A newsletter carries no List-Post."""
    post = _mail(Precedence="list", List_Post="<mailto:hotro-group@googlegroups.com>",
                 List_Id="<hotro-group.googlegroups.com>")
    old_list = _mail(Precedence="bulk", Sender="owner-khachhang@lists.example.vn")
    newsletter = _mail(Precedence="bulk", List_Unsubscribe="<https://news.example.vn/u>",
                       sender="Tin khuyến mãi <news@brand.example.vn>")
    assert parse(post).auto is None and parse(old_list).auto is None
    assert parse(newsletter).auto == "auto-reply"


@pytest.mark.parametrize("subject", [
    "Automatic reply: Đơn hàng DH1", "Auto reply: Đơn hàng DH1", "Autoreply: x",
    "Auto-Reply: x", "Out of Office: x", "Out of Office AutoReply: x",
    "Tự động trả lời: Đơn hàng DH1", "Trả lời tự động: Đơn hàng DH1",
    "Tu dong tra loi: Don hang", "Tra loi tu dong: Don hang", "Phản hồi tự động: x",
    "Abwesenheitsnotiz: x", "Automatische Antwort: x", "Réponse automatique : x",
    "Respuesta automática: x", "Risposta automatica: x", "Automatisch antwoord: x",
    "Resposta automática: x", "Automatisk svar: x", "Automatyczna odpowiedź: x",
    "自動応答: x", "自動返信：x", "【自動返信】お問い合わせ", "自动回复: x", "自動回覆: x",
    "자동 응답: x", "자동 회신: x", "Автоответ: x", "Автоматический ответ: x",
    "[Auto-Reply] x", "AUTO: Nguyen Van A is out of the office (returning 05/05/2026)",
    "رد تلقائي: x", "Trả lời Tự động: Re: [#MC-7] Đơn hàng",
])
def test_auto_reply_subject_prefixes_in_many_languages_suffice(subject: str) -> None:
    assert parse(_mail(subject)).auto == "auto-reply"


@pytest.mark.parametrize("subject", [
    "Re: Out of office hours delivery?", "Trả lời: đơn hàng của tôi",
    "Tự động gia hạn voucher?", "Vắng mặt khi shipper giao hàng", "vang mat luc giao hang",
    "Re: Automatic reply: Đơn hàng DH1", "Fwd: Tự động trả lời: Đơn hàng DH1",
    "Trả lời tự động có phải không?", "Out of office hours: giao buổi tối không?",
    "Automatic reply settings?", "Delivery failed - đơn DH1 giao không thành công",
    "Delivery status of my order", "Undelivered order DH1", "Returned goods",
    "Fwd: Undelivered Mail Returned to Sender", "Nghỉ phép có giao hàng không?",
])
def test_a_customers_subject_that_looks_like_a_robots_is_not_one(subject: str) -> None:
    assert parse(_mail(subject)).auto is None
    assert parse(_mail(subject, X_Auto_Response_Suppress="All")).auto is None


def test_x_auto_response_suppress_counts_beside_an_away_subject_only() -> None:
    away = "Vắng mặt: Re: Đơn hàng DH1"
    assert parse(_mail(away)).auto is None
    assert parse(_mail(away, X_Auto_Response_Suppress="All")).auto == "auto-reply"
    assert parse(_mail("Re: Đơn hàng DH1", X_Auto_Response_Suppress="All")).auto is None


def test_a_null_return_path_is_a_bounce_unless_the_mail_says_it_is_an_auto_reply() -> None:
    assert parse(b"Return-Path: <>\r\n" + _mail()).auto == "bounce"
    for subject in ("Automatic reply: Đơn hàng DH1", "Out of office until Monday"):
        assert parse(b"Return-Path: <>\r\n" + _mail(subject)).auto == "auto-reply"


@pytest.mark.parametrize(("sender", "subject", "body", "headers"), [
    ("MAILER-DAEMON <>", "Mail delivery failed", "There was an error delivering your mail "
     "to <a@b.vn>.", {}),
    ("Mail Delivery System <Mail.Delivery.System@mx.example.com>", "Delivery status "
     "notification", "x", {}),
    ("Lan <lan@gmail.com>", "Delivery status notification", "x",
     {"Return-Path": "<MAILER-DAEMON@mx.example.com>"}),
    ("postmaster@outlook.com", "Undeliverable: Đơn hàng DH1", "x", {}),
    ("post_master@vtext.com", "Re: Đơn hàng", "Error: Invalid user address\n\n550 - "
     "Requested action not taken: no such user here", {}),
    ("Postmaster <postmaster@example.org>", "Undeliverable Mail", "Unknown user: a@b.vn", {}),
    ("no-reply@x0.dion.ne.jp", "メールエラー通知", "Could not be delivered to: <a@b.jp>", {}),
])
def test_bounces_without_a_report_structure(sender: str, subject: str, body: str,
                                            headers: dict[str, str]) -> None:
    assert parse(_mail(subject, body, sender, **headers)).auto == "bounce"


def test_a_postmaster_writing_as_a_person_is_a_person() -> None:
    assert parse(_mail("Please enjoy this long link", "Hi Mike, look at this.",
                       "Bob <postmaster@example.com>")).auto is None


def test_a_customer_forwarding_a_bounce_is_a_customer() -> None:
    body = ("Shop ơi mail của em bị trả về:\n\n---------- Forwarded message ---------\n"
            "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n\n"
            "550 5.1.1 <giaohang@example.vn>: Recipient address rejected: User unknown\n")
    assert parse(_mail("Fwd: Delivery Status Notification (Failure)", body)).auto is None


def test_a_web_form_mailers_no_reply_address_does_not_make_a_robot() -> None:
    raw = _mail("Delivery failed - giao lại giúp em", "Họ tên: Lan\nNội dung: giao lại",
                "Website <no-reply@forms.shop.example.vn>", Reply_To="lan@gmail.com")
    assert parse(raw).auto is None


def test_apple_icloud_vacation_reply_is_an_auto_reply() -> None:
    """iCloud writes no Auto-Submitted: only `X-Apple-Action: VACATION` (a real one from
    the corpus, and one whose subject is not "Auto reply:")."""
    real = parse((ROBOTS / "sisimai" / "rfc3834-03.eml").read_bytes())
    assert (real.auto, real.subject) == ("auto-reply", "Auto reply: Nyaan")
    assert parse(_mail("Re: Đơn hàng DH1", "Tôi đang nghỉ phép.",
                       X_Apple_Action="VACATION")).auto == "auto-reply"


def test_a_read_receipt_is_an_automatic_answer_about_our_message() -> None:
    receipt = parse((ROBOTS / "flanker" / "disposition-notification.eml").read_bytes())
    assert (receipt.auto, receipt.bounced_message_id) == ("auto-reply",
                                                           "<199509192301.23456@example.org>")


def test_feedback_reports_are_complaints_about_our_message() -> None:
    for name in ("complaints-aol.eml", "complaints-yahoo.eml"):
        report = parse((ROBOTS / "flanker" / name).read_bytes())
        assert report.auto == "complaint" and report.bounced_message_id


def test_a_plain_text_bounce_names_the_returned_message() -> None:
    qmail = parse((ROBOTS / "sisimai" / "lhost-qmail-01.eml").read_bytes())
    assert qmail.auto == "bounce" and qmail.bounced_message_id not in (None, qmail.message_id)


# --- JSON notifications ------------------------------------------------------------------

ACK = "<mc-1.ack@shop.example.vn>"
SES_BOUNCE = {
    "notificationType": "Bounce",
    "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
               "bouncedRecipients": [{"emailAddress": "lan@gmail.com", "status": "5.1.1",
                                      "action": "failed"}]},
    "mail": {"messageId": "0100018c-ses", "source": "hotro@shop.example.vn",
             "headers": [{"name": "From", "value": "hotro@shop.example.vn"},
                         {"name": "Message-ID", "value": ACK}],
             "commonHeaders": {"from": ["hotro@shop.example.vn"], "messageId": ACK}},
}


def _sns(event: dict, *, envelope: bool = True) -> bytes:  # type: ignore[type-arg]
    body = json.dumps({"Type": "Notification", "MessageId": "5f1c-sns",
                       "TopicArn": "arn:aws:sns:ap-southeast-1:123456789012:ses-events",
                       "Message": json.dumps(event)}, indent=2) if envelope else json.dumps(event)
    footer = ("\n\n--\nIf you wish to stop receiving notifications from this topic, please "
              "click or visit the link below to unsubscribe:\nhttps://sns.example/unsubscribe")
    return _mail("AWS Notification Message", body + footer,
                 "AWS Notifications <no-reply@sns.amazonaws.com>")


@pytest.mark.parametrize("envelope", [True, False])
def test_ses_bounce_and_complaint_notifications_name_our_message(envelope: bool) -> None:
    bounce = parse(_sns(SES_BOUNCE, envelope=envelope))
    assert (bounce.auto, bounce.bounced_message_id) == ("bounce", ACK)
    complaint = dict(SES_BOUNCE, notificationType="Complaint")
    assert parse(_sns(complaint, envelope=envelope)).auto == "complaint"
    delivered = dict(SES_BOUNCE, notificationType="Delivery")
    assert parse(_sns(delivered, envelope=envelope)).auto == "auto-reply"


def test_ses_message_id_from_the_headers_list_when_common_headers_lack_it() -> None:
    event = json.loads(json.dumps(SES_BOUNCE))
    del event["mail"]["commonHeaders"]["messageId"]
    assert parse(_sns(event)).bounced_message_id == ACK


def test_sendgrid_and_mailgun_events_arriving_as_mail() -> None:
    sendgrid = [{"email": "lan@gmail.com", "event": "bounce", "smtp-id": ACK,
                 "sg_event_id": "e1", "sg_message_id": "m1.filter", "reason": "550 5.1.1"}]
    mailgun = {"signature": {"token": "t", "timestamp": "1", "signature": "s"},
               "event-data": {"event": "failed", "severity": "permanent",
                              "recipient": "lan@gmail.com",
                              "message": {"headers": {"message-id": ACK.strip("<>")}}}}
    for body in (json.dumps(sendgrid), json.dumps(mailgun)):
        found = parse(_mail("Event", body, "events@relay.example.com"))
        assert (found.auto, found.bounced_message_id) == ("bounce", ACK)


def test_postmark_and_mandrill_events_arriving_as_mail() -> None:
    postmark = {"RecordType": "Bounce", "Type": "HardBounce", "MessageID": "883953f4-6105",
                "Email": "lan@gmail.com", "Description": "The server was unable to deliver"}
    mandrill = [{"event": "hard_bounce", "ts": 1795786267,
                 "msg": {"_id": "7761629", "email": "lan@gmail.com", "state": "bounced"}}]
    for body in (json.dumps(postmark), json.dumps(mandrill)):
        assert parse(_mail("Event", body, "events@relay.example.com")).auto == "bounce"


def test_a_customer_pasting_json_is_a_customer() -> None:
    assert parse(_mail("Lỗi API", '{"order": "DH1", "status": "failed"}')).auto is None


# --- end to end ------------------------------------------------------------------------------

async def test_robots_are_recorded_on_the_ticket_never_ticketed_nor_acknowledged(
        mail: Mail) -> None:  # noqa: F811 (the fixture from test_flow)
    await mail.send(customer_mail("Hàng giao tới bị vỡ"))
    await mail.settle()
    [ack] = mail.sent()
    event = json.loads(json.dumps(SES_BOUNCE))
    event["mail"]["commonHeaders"]["messageId"] = ack["Message-ID"]
    event["mail"]["headers"][1]["value"] = ack["Message-ID"]
    sns = EmailMessage()
    sns["From"] = "AWS Notifications <no-reply@sns.amazonaws.com>"
    sns["To"] = "hotro@shop.example.vn"
    sns["Subject"] = "AWS Notification Message"
    sns["Message-ID"] = "<sns-1@email.amazonses.com>"
    sns.set_content(json.dumps({"Type": "Notification", "Message": json.dumps(event)}))
    await mail.send(sns)
    await mail.send(customer_mail("I'm only sleeping.", subject=f"Auto reply: {ack['Subject']}",
                                  msgid="<vac-1@icloud.com>", X_Apple_Action="VACATION",
                                  In_Reply_To=ack["Message-ID"]))
    await mail.send(customer_mail("Tôi đang nghỉ phép đến thứ Hai.",
                                  subject=f"Tự động trả lời: {ack['Subject']}",
                                  msgid="<oof-1@outlook.com>", X_Auto_Response_Suppress="All",
                                  In_Reply_To=ack["Message-ID"]))
    await mail.settle()
    assert mail.ticket_count() == 1
    assert len(mail.sent()) == 1
    journal = [j["action"] for j in mail.ticket(1)["journal"]]
    assert journal.count("bounce") == 1 and journal.count("auto-reply") == 2
