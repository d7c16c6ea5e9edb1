"""The supplier portal over HTTP: login, sessions, isolation between suppliers, CSRF, XSS,
session fixation, rate limiting, and each supplier action's effect on the ticket."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from switchboard.outbox.compose import email_thread
from tests.helpers import deliver, message
from tests.web.conftest import HOANG_GIA, PASSWORD, SEN, Portal
from tickets.schema import journal, messages, outbox, proposals, tickets

SEN_COMPLAINT = ("Voucher buffet trưa Sen Tây Hồ hôm qua đồ ăn bị ôi thiu, con tôi đau bụng. "
                 "Mã đơn DH24043942")
HG_COMPLAINT = "Buffet lẩu nướng Hoàng Gia thịt bò bị ôi, nước lẩu nhạt, rất thất vọng"


def _ticket(portal: Portal, ref: str) -> dict[str, object]:
    with portal.rt.db.read() as conn:
        row = conn.execute(select(tickets).where(tickets.c.id == int(ref.split("-")[1]))).one()
    return dict(row._mapping)


def test_login_lists_only_own_complaints_and_hides_other_suppliers(portal: Portal) -> None:
    sen = portal.complaint("tg-1", SEN_COMPLAINT)
    hg = portal.complaint("tg-2", HG_COMPLAINT, sender="7002")
    assert _ticket(portal, sen)["assigned_supplier_id"] == "SUP001"
    assert _ticket(portal, hg)["assigned_supplier_id"] == "SUP002"
    client = portal.client()
    assert client.get("/portal").status_code == 303  # not logged in: to the login form
    assert portal.login(client, SEN[0]) == 303
    page = client.get("/portal")
    assert page.status_code == 200
    assert sen in page.text and hg not in page.text
    assert client.get(f"/portal/tickets/{sen}").status_code == 200
    # the other supplier's complaint, and one that does not exist: the same 404
    for ref in (hg, "MC-99999", "MC-0", "abc"):
        assert client.get(f"/portal/tickets/{ref}").status_code == 404, ref
    csrf = portal.csrf(client, f"/portal/tickets/{sen}")
    for action in ("reply", "note", "propose", "done"):
        answer = client.post(f"/portal/tickets/{hg}/{action}",
                             data={"csrf": csrf, "text": "xin lỗi", "kind": "refund",
                                   "amount": "1000"})
        assert answer.status_code == 404, action
    assert _ticket(portal, hg)["supplier_done_at"] is None
    with portal.rt.db.read() as conn:
        assert conn.execute(select(outbox.c.id).where(
            outbox.c.ticket_id == int(hg.split("-")[1]), outbox.c.kind == "reply")).first() \
            is None


def test_supplier_answers_writes_proposes_and_marks_done(portal: Portal) -> None:
    ref = portal.complaint("tg-1", SEN_COMPLAINT)
    client = portal.client()
    portal.login(client, SEN[0])
    page = client.get(f"/portal/tickets/{ref}")
    assert "Nguyễn Thị Mai" in page.text and "DH24043942" in page.text
    assert "7001" not in page.text  # the customer's platform id is not the supplier's business
    csrf = portal.csrf(client, f"/portal/tickets/{ref}")
    answer = client.post(f"/portal/tickets/{ref}/reply",
                         data={"csrf": csrf, "text": "Chúng tôi xin lỗi, sẽ hoàn tiền ngay."})
    assert answer.status_code == 303 and "flash=" in answer.headers["location"]
    client.post(f"/portal/tickets/{ref}/note", data={"csrf": csrf,
                                                     "text": "Bếp đã kiểm tra lô hàng"})
    client.post(f"/portal/tickets/{ref}/propose", data={"csrf": csrf, "kind": "refund",
                                                        "amount": "289.000",
                                                        "text": "hoàn 100%"})
    client.post(f"/portal/tickets/{ref}/done", data={"csrf": csrf, "text": "đã hoàn tiền"})
    ticket_id = int(ref.split("-")[1])
    with portal.rt.db.read() as conn:
        sent = conn.execute(select(outbox.c.channel, outbox.c.recipient, outbox.c.payload)
                            .where(outbox.c.ticket_id == ticket_id,
                                   outbox.c.kind == "reply")).all()
        actions = [r.action for r in conn.execute(select(journal.c.action).where(
            journal.c.ticket_id == ticket_id).order_by(journal.c.id))]
        proposal = conn.execute(select(proposals)).one()
    assert [(s.channel, s.recipient) for s in sent] == [("telegram", "7001")]
    assert "hoàn tiền ngay" in sent[0].payload["text"]
    assert {"replied", "first_response", "supplier_note", "proposed", "supplier_done"} \
        <= set(actions)
    assert (proposal.kind, proposal.amount, proposal.status) == ("refund", 289000, "proposed")
    ticket = _ticket(portal, ref)
    assert ticket["supplier_done_at"] is not None and ticket["first_response_at"] is not None
    assert ticket["sla"]["timers"]["supplier_first_response"]["done"] is not None
    assert ticket["sla"]["timers"]["supplier_resolution"]["done"] is not None
    page = client.get(f"/portal/tickets/{ref}")
    assert "Bếp đã kiểm tra lô hàng" in page.text and "289.000 ₫" in page.text
    assert client.get("/portal?tab=done").text.count(f'data-ref="{ref}"') == 1
    assert f'data-ref="{ref}"' not in client.get("/portal").text


def test_hand_over_email_goes_to_supplier_contacts_and_users(portal: Portal) -> None:
    ref = portal.complaint("tg-1", SEN_COMPLAINT)
    with portal.rt.db.read() as conn:
        mails = conn.execute(select(outbox.c.recipient, outbox.c.payload).where(
            outbox.c.kind == "handover")).all()
    assert sorted(m.recipient for m in mails) == sorted(
        ["cskh@senbuffet.vn", "datban@senbuffet.vn", SEN[0]])
    text = mails[0].payload["text"]
    assert f"https://portal.example.vn/portal/tickets/{ref}" in text
    assert "Kính gửi Nhà hàng Sen Tây Hồ" in text and "ôi thiu" in text


def test_a_supplier_answering_the_hand_over_by_email_writes_to_the_desk(
        portal: Portal) -> None:
    """The supplier's contact answers the hand-over mail (its subject carries the
    reference): the answer lands on that complaint for the desk, as a portal note would —
    no new ticket, nothing sent back, nothing to the customer."""
    ref = portal.complaint("<c1@gmail.com>", SEN_COMPLAINT, sender="lan@gmail.com",
                           channel="email")
    number = int(ref.split("-")[1])
    [outcome] = deliver(portal.rt.pipeline, message(
        "<re-handover@senbuffet.vn>", "Bên em đã liên hệ khách, sẽ hoàn tiền trong hôm nay ạ.",
        channel="email", sender="cskh@senbuffet.vn", when=portal.clock.now(),
        subject=f"Re: [{ref}] Khiếu nại mới cần xử lý / new complaint"))
    assert (outcome.action, outcome.ref) == ("recorded", ref)
    with portal.rt.db.read() as conn:
        assert conn.execute(select(tickets.c.id)).scalars().all() == [number]
        assert conn.execute(select(messages.c.ticket_id, messages.c.author_kind).where(
            messages.c.external_id == "<re-handover@senbuffet.vn>")).one() == (number,
                                                                               "supplier")
        notes = conn.execute(select(journal.c.actor, journal.c.reason).where(
            journal.c.ticket_id == number, journal.c.action == "supplier_note")).all()
        answered = conn.execute(select(outbox.c.recipient).where(outbox.c.kind.in_(
            ("ack", "reply")))).scalars().all()
    assert answered == ["lan@gmail.com"]  # the customer's acknowledgement, nothing more
    assert [n.actor for n in notes] == ["SUP001 (cskh@senbuffet.vn)"]
    assert "sẽ hoàn tiền trong hôm nay" in notes[0].reason
    # the desk's next answer still goes to the customer, not back to the supplier
    with portal.rt.db.read() as conn:
        thread = email_thread(conn, portal.rt.settings, number)
    assert thread is not None and thread.customer_address == "lan@gmail.com"
    # the same supplier writing about something else is the supplier speaking, as before
    [other] = deliver(portal.rt.pipeline, message(
        "<doisoat@senbuffet.vn>", "Kỳ đối soát tháng này chưa thấy chuyển tiền",
        channel="email", sender="cskh@senbuffet.vn", when=portal.clock.now(),
        subject="Đối soát tháng 11"))
    assert (other.action, other.category) == ("created", "supplier_platform")


def test_csrf_is_required_on_every_form(portal: Portal) -> None:
    ref = portal.complaint("tg-1", SEN_COMPLAINT)
    client = portal.client()
    page = client.get("/login")
    assert page.status_code == 200
    # login without the double-submit token, or with another one
    assert client.post("/login", data={"email": SEN[0], "password": PASSWORD}).status_code \
        == 403
    assert client.post("/login", data={"csrf": "forged", "email": SEN[0],
                                       "password": PASSWORD}).status_code == 403
    portal.login(client, SEN[0])
    for data in ({"text": "hi"}, {"text": "hi", "csrf": "forged"}, {"text": "hi", "csrf": ""}):
        assert client.post(f"/portal/tickets/{ref}/reply", data=data).status_code == 403
    assert client.post("/portal/new", data={"text": "x"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    with portal.rt.db.read() as conn:
        assert conn.execute(select(outbox.c.id).where(outbox.c.kind == "reply")).first() \
            is None


def test_customer_text_is_escaped_and_pages_forbid_inline_script(portal: Portal) -> None:
    attack = ('Buffet Sen Tây Hồ đồ ăn ôi thiu <script>alert("x")</script>'
              '<img src=x onerror=alert(1)> DH24043942')
    ref = portal.complaint("tg-1", attack)
    client = portal.client()
    portal.login(client, SEN[0])
    page = client.get(f"/portal/tickets/{ref}")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1]
    assert page.headers["x-frame-options"] == "DENY"


def test_session_fixation_a_planted_cookie_never_becomes_a_session(portal: Portal) -> None:
    client = portal.client()
    planted = "attacker-chosen-session-id"
    client.cookies.set("sb_session", planted)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    answer = client.post("/login", data={"csrf": token.group(1), "email": SEN[0],
                                         "password": PASSWORD})
    assert answer.status_code == 303
    issued_cookie = re.search(r"sb_session=([^;]+)", answer.headers["set-cookie"])
    assert issued_cookie is not None
    issued = issued_cookie.group(1)
    assert issued != planted
    assert "HttpOnly" in answer.headers["set-cookie"]
    assert "Secure" in answer.headers["set-cookie"]  # the portal's base URL is https
    client = portal.client()
    client.cookies.set("sb_session", issued)
    assert client.get("/portal").status_code == 200
    # the planted value is not a session, before or after the victim's login
    stranger = portal.client()
    stranger.cookies.set("sb_session", planted)
    assert stranger.get("/portal").status_code == 303
    # a second login issues another token and the first one dies with logout
    csrf = portal.csrf(client, "/portal")
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    replay = portal.client()
    replay.cookies.set("sb_session", issued)
    assert replay.get("/portal").status_code == 303


def test_sessions_expire_when_idle_and_at_their_end(portal: Portal) -> None:
    client = portal.client()
    portal.login(client, SEN[0])
    assert client.get("/portal").status_code == 200
    portal.clock.advance(timedelta(hours=1, minutes=59))
    assert client.get("/portal").status_code == 200
    portal.clock.advance(timedelta(hours=2, minutes=1))
    assert client.get("/portal").status_code == 303  # idle for two hours
    portal.login(client, SEN[0])
    for _ in range(9):  # busy all day: still ends eight hours after login
        portal.clock.advance(timedelta(minutes=55))
        client.get("/portal")
    assert client.get("/portal").status_code == 303


def test_login_is_rate_limited_per_email(portal: Portal) -> None:
    client = portal.client()
    for _ in range(5):
        assert portal.login(client, SEN[0], "wrong password!") == 401
    # the right password no longer helps until the window passes
    assert portal.login(client, SEN[0]) == 429
    assert portal.login(client, HOANG_GIA[0]) == 303  # another account is not locked
    portal.clock.advance(timedelta(minutes=16))
    assert portal.login(client, SEN[0]) == 303


def test_roles_suppliers_cannot_open_the_dashboard_nor_managers_the_portal(
        portal: Portal) -> None:
    supplier = portal.client()
    portal.login(supplier, SEN[0])
    assert supplier.get("/dashboard").status_code == 403
    assert supplier.get("/dashboard/per_day.csv").status_code == 403
    manager = portal.client()
    assert portal.login(manager, "hoa@shop.example.vn") == 303
    assert manager.get("/portal").status_code == 403
    assert manager.get("/dashboard").status_code == 200


def test_login_redirects_only_to_our_own_pages(portal: Portal) -> None:
    client = portal.client()
    page = client.get("/login", params={"next": "https://evil.example/portal"})
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post("/login", data={"csrf": token.group(1), "email": SEN[0],
                                         "password": PASSWORD,
                                         "next": "//evil.example/portal"})
    assert answer.headers["location"] == "/portal"


def test_supplier_raises_its_own_request_to_the_marketplace(portal: Portal) -> None:
    client = portal.client()
    portal.login(client, SEN[0])
    csrf = portal.csrf(client, "/portal/new")
    answer = client.post("/portal/new", data={
        "csrf": csrf, "subject": "Chậm thanh toán", "idempotency": "k1",
        "text": "Sàn chưa thanh toán đối soát tháng 10 cho nhà hàng chúng tôi, đã quá hạn 2 "
                "tuần"})
    assert answer.status_code == 303
    client.post("/portal/new", data={"csrf": csrf, "idempotency": "k1", "text": "lặp lại"})
    from tests.helpers import deliver

    outcomes = deliver(portal.rt.pipeline)  # the replayed form (same key) is not doubled
    assert [o.action for o in outcomes] == ["created"]
    page = client.get("/portal?tab=requests")
    assert "Chậm thanh toán" in page.text
    with portal.rt.db.read() as conn:
        rows = conn.execute(select(tickets.c.category, tickets.c.sender_kind,
                                   tickets.c.supplier_id, tickets.c.channel)).all()
    assert [(r.category, r.sender_kind, r.supplier_id, r.channel) for r in rows] == [
        ("supplier_platform", "supplier", "SUP001", "portal")]


def test_throttle_counts_every_spelling_of_an_email(portal: Portal) -> None:
    client = portal.client()
    for spelling in ("<sen.staff@senbuffet.vn>", " SEN.STAFF@senbuffet.vn",
                     "sen.staff@senbuffet.vn>", "Sen.Staff@SenBuffet.vn",
                     "sen.staff@senbuffet.vn"):
        assert portal.login(client, spelling, "wrong password!") == 401
    assert portal.login(client, SEN[0]) == 429


def test_malformed_inputs_get_clear_answers_not_500(portal: Portal) -> None:
    ref = portal.complaint("tg-1", SEN_COMPLAINT)
    client = portal.client()
    portal.login(client, SEN[0])
    assert client.get("/portal/tickets/99999999999999999999").status_code == 404
    csrf = portal.csrf(client, f"/portal/tickets/{ref}")
    answer = client.post(f"/portal/tickets/{ref}/propose",
                         data={"csrf": csrf, "kind": "refund", "amount": "²"})
    assert answer.status_code == 303 and "whole%20number" in answer.headers["location"]
    answer = client.post(f"/portal/tickets/{ref}/propose",
                         data={"csrf": csrf, "kind": "bribe", "amount": "10"})
    assert answer.status_code == 303 and "unknown%20kind" in answer.headers["location"]
    manager = portal.client()
    portal.login(manager, "hoa@shop.example.vn")
    for query in ("until=9999-12-31", "since=0001-01-01&until=0001-01-05",
                  "since=2026-13-01", "since=2026-11-30&until=2026-11-01", "channel=fax"):
        assert manager.get(f"/dashboard?{query}").status_code == 422, query
        assert manager.get(f"/dashboard/per_day.csv?{query}").status_code == 422, query
    assert manager.get("/dashboard/no_such_table.csv").status_code == 404


def test_a_ticket_moved_to_another_supplier_shows_it_only_its_own_exchange(
        portal: Portal) -> None:
    from switchboard.desk import actions as desk
    from switchboard.desk import supplier_actions

    ref = portal.complaint("tg-1", SEN_COMPLAINT)
    ticket_id = int(ref.split("-")[1])
    rt = portal.rt
    from switchboard.desk.accounts import User

    sen_user = User(1, SEN[0], "Staff", "SUP001", "Sen", "supplier", ())
    hg_user = User(2, HOANG_GIA[0], "Staff", "SUP002", "HG", "supplier", ())
    with rt.db.write() as conn:
        supplier_actions.note(conn, rt.settings, sen_user, ticket_id, "ghi chú riêng của Sen",
                           rt.clock.now())
        supplier_actions.mark_done(conn, rt.settings, sen_user, ticket_id, "", rt.clock.now())
        conn.execute(tickets.update().where(tickets.c.id == ticket_id)
                     .values(supplier_id="SUP002"))
        desk.hand_to_supplier(conn, rt.settings, ticket_id, "lan", rt.clock.now())
    client = portal.client()
    portal.login(client, HOANG_GIA[0])
    page = client.get(f"/portal/tickets/{ref}")
    assert page.status_code == 200
    assert "ghi chú riêng của Sen" not in page.text
    assert 'id="done"' in page.text  # the new supplier's part is not done
    with rt.db.write() as conn:
        supplier_actions.mark_done(conn, rt.settings, hg_user, ticket_id, "", rt.clock.now())
    sen = portal.client()
    portal.login(sen, SEN[0])
    assert sen.get(f"/portal/tickets/{ref}").status_code == 404  # no longer Sen's
