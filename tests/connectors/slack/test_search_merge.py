"""`/search` and `/merge` from Slack against the fake Slack API: the same search as the
API's `q`, a merge journaled under the agent, retries acting once, strangers refused."""

from __future__ import annotations

from sqlalchemy import select

from switchboard.desk import actions
from tests.connectors.slack.conftest import LAN, STRANGER, Desk
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
