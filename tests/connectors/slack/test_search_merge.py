"""`/search` and `/merge` from Slack against the fake Slack API: the same search as the
API's `q`, a merge journaled under the agent, retries acting once, strangers refused."""

from __future__ import annotations

import json

from sqlalchemy import select

from switchboard.desk import actions
from tests.connectors.slack.conftest import LAN, MINH, STRANGER, Desk
from tests.connectors.slack.test_desk import complaint, journal_actions
from tickets.schema import journal, tickets


async def _two_calls(desk: Desk) -> None:
    """Two hotline calls from one customer: the first ticket resolved before the second
    call, so the second opens its own ticket (MC-2) about the same order."""
    rt = desk.chat.rt
    await desk.command(LAN, "/ticket", "0912 345 678 Khách chưa nhận được hàng đơn DH25220868",
                       trigger="t1")
    await desk.until(lambda: desk.chat.tickets(), "the first ticket")
    with rt.db.write() as conn:
        actions.resolve(conn, rt.settings, 1, "lan", rt.clock.now())
    await desk.command(LAN, "/ticket", "0912 345 678 Khách gọi lại, vẫn chưa nhận được hàng",
                       trigger="t2")
    await desk.until(lambda: len(desk.chat.tickets()) == 2, "the second ticket")


async def test_search_finds_without_diacritics_and_merge_joins_two_tickets(desk: Desk
                                                                         ) -> None:
    await _two_calls(desk)
    await desk.command(LAN, "/search", "chua nhan duoc hang", trigger="t3")
    found = await desk.until(lambda: desk.responses()[2:], "the search")
    assert "MC-1" in found[0]["text"] and "MC-2" in found[0]["text"]
    await desk.command(LAN, "/merge", "MC-1 MC-2", trigger="t4")
    merged = await desk.until(lambda: desk.responses()[3:], "the merge")
    assert "MC-1 merged into MC-2" in merged[0]["text"]
    await desk.command(LAN, "/merge", "MC-1 MC-2", trigger="t4")  # Slack retries
    await desk.quiet()
    with desk.chat.rt.db.read() as conn:
        entries = conn.execute(select(journal.c.action, journal.c.actor).where(
            journal.c.action == "merged_into")).all()
        left = conn.execute(select(tickets.c.status).where(tickets.c.id == 1)).scalar()
    assert entries == [("merged_into", "lan")] and left == "closed"


async def test_search_and_merge_explain_themselves(desk: Desk) -> None:
    await desk.command(LAN, "/search", "", trigger="u1")
    usage = await desk.until(desk.responses, "usage")
    assert "/search" in usage[0]["text"]
    await desk.command(LAN, "/search", "xyzzy khong co", trigger="u2")
    none = await desk.until(lambda: desk.responses()[1:], "nothing")
    assert "no ticket matches" in none[0]["text"]
    await desk.command(LAN, "/merge", "MC-1", trigger="u3")
    bad = await desk.until(lambda: desk.responses()[2:], "merge usage")
    assert "/merge" in bad[0]["text"]
    await desk.command(LAN, "/merge", "MC-1 MC-2", trigger="u4")
    gone = await desk.until(lambda: desk.responses()[3:], "no such tickets")
    assert "not merged" in gone[0]["text"]
    await desk.command(STRANGER, "/search", "hang", trigger="u5")
    await desk.quiet()
    texts = [r["text"] for r in desk.responses()[4:]]
    assert not texts or all("MC-" not in t for t in texts)


async def test_a_macro_from_slack_runs_once_and_explains_itself(desk: Desk) -> None:
    await complaint(desk, text="Đơn DH25220868 giao chậm quá, 5 ngày chưa tới")
    await desk.command(LAN, "/macro", "late_delivery MC-1", trigger="m1")
    ran = await desk.until(lambda: desk.responses(), "the macro")
    assert ran[0]["text"].startswith("⚙️ late_delivery"), ran[0]["text"]
    await desk.command(LAN, "/macro", "late_delivery MC-1", trigger="m1")  # a retry
    await desk.quiet()
    await desk.command(LAN, "/macro", "", trigger="m2")
    usage = await desk.until(lambda: desk.responses()[2:], "usage")
    assert "late_delivery" in usage[0]["text"]
    with desk.chat.rt.db.read() as conn:
        runs = conn.execute(select(journal.c.id).where(journal.c.action == "macro")).all()
        status = conn.execute(select(tickets.c.status).where(tickets.c.id == 1)).scalar()
    assert len(runs) == 1 and status == "pending_carrier"
    # a phone ticket cannot take a reply: the whole macro is refused, nothing changes
    await desk.command(LAN, "/ticket", "0912 345 678 Khách gọi báo giao chậm", trigger="m3")
    await desk.until(lambda: len(desk.chat.tickets()) == 2, "the phone ticket")
    await desk.command(LAN, "/macro", "late_delivery MC-2", trigger="m4")
    refused = await desk.until(lambda: desk.responses()[4:], "the refusal")
    assert "nothing changed" in refused[0]["text"] and "step 1" in refused[0]["text"]
    with desk.chat.rt.db.read() as conn:
        assert conn.execute(select(tickets.c.status).where(tickets.c.id == 2)).scalar() \
            != "pending_carrier"


async def test_a_second_agent_is_warned_while_the_first_is_replying(desk: Desk) -> None:
    await complaint(desk)
    card_ts = desk.card_ts()
    await desk.action(LAN, "sb_reply", "1", "C0COMPLAIN", card_ts)
    await desk.until(lambda: desk.calls("views.open"), "the form")
    updated = await desk.until(lambda: [c for c in desk.calls("chat.update")
                                        if "is replying" in json.dumps(c)],
                               "the card saying Lan is replying")
    assert "lan" in json.dumps(updated[-1], ensure_ascii=False)
    first = await desk.submit_reply(MINH, 1, "Chào bạn, Minh đây.", view_hash="m1")
    assert first.status_code == 200
    assert "lan" in first.text and "send again" in first.text  # warned, nothing sent
    with desk.chat.rt.db.read() as conn:
        assert not conn.execute(select(journal.c.id).where(
            journal.c.action == "replied")).all()
    again = await desk.submit_reply(MINH, 1, "Chào bạn, Minh đây.", view_hash="m2")
    assert again.status_code == 200 and "send again" not in again.text
    await desk.until(lambda: journal_actions(desk).count(("replied", "minh")) == 1,
                     "Minh's answer")


async def test_the_card_offers_the_macros_and_a_refused_one_changes_nothing(desk: Desk
                                                                         ) -> None:
    await complaint(desk, text="Đơn DH25220868 giao chậm quá, 5 ngày chưa tới")
    [card] = desk.cards()
    assert "sb_macro" in json.dumps(card) and "late_delivery" in json.dumps(card)
    await desk.action(LAN, "sb_macro", "1:late_delivery", "C0COMPLAIN", desk.card_ts(),
                      select=True)
    await desk.until(lambda: ("macro", "lan") in journal_actions(desk), "the macro")
    with desk.chat.rt.db.read() as conn:
        assert conn.execute(select(tickets.c.status).where(tickets.c.id == 1)).scalar() \
            == "pending_carrier"
    await desk.action(LAN, "sb_macro", "1:no_such_macro", "C0COMPLAIN", desk.card_ts(),
                      select=True)
    await desk.quiet()
    assert journal_actions(desk).count(("macro", "lan")) == 1
