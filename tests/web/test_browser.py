"""The portal and the dashboard in a real headless Chromium (Debian's, driven by
Playwright) against the real server on 127.0.0.1: the worker and the outbox dispatcher run
in it, and the customer's Telegram is a fake Bot API on 127.0.0.1 that records what it is
sent.

Set SWITCHBOARD_SCREENSHOTS=DIR to keep screenshots of the main pages (the README's come
from here).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select

from switchboard import bootstrap
from switchboard.desk import actions as desk
from switchboard.jobs.sla_sweeper import Sweeper
from switchboard.settings import Settings, load_settings
from switchboard.ticket_rules.sla_keeper import keeper_for
from switchboard.web.app import create_app
from tests.conftest import CONFIG, require_services
from tests.connectors.chat import TG_SECRET, TG_TOKEN, telegram_answer
from tests.connectors.fakes import FakePlatform, start_fake
from tests.helpers import deliver, message
from tests.web.conftest import AGENT, MAILBOX, MANAGER, PASSWORD, SEN, add_accounts
from tests.web.test_portal import HG_COMPLAINT, SEN_COMPLAINT
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.messages import InboundMessage
from tickets.schema import messages, tickets

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")


def _browser_or_skip() -> None:
    if not Path(CHROMIUM).exists():
        if require_services():
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")


@dataclass
class Live:
    url: str
    rt: bootstrap.Runtime
    clock: ManualClock
    telegram: FakePlatform
    loop: asyncio.AbstractEventLoop

    def sent(self) -> list[dict[str, str]]:
        return [r.form() for r in self.telegram.calls("/sendMessage")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(settings: Settings, catalog: Database, clock: ManualClock) -> Iterator[Live]:
    _browser_or_skip()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    telegram, runner = asyncio.run_coroutine_threadsafe(start_fake(telegram_answer),
                                                        loop).result(10)
    port = _free_port()
    live_settings = load_settings(CONFIG, environ={"SWITCHBOARD_SECRET": "test-secret"},
                                  overrides={
        "database.url": settings.database.url, "agents": [MANAGER, AGENT],
        "email.mailboxes": [MAILBOX], "portal.base_url": f"http://127.0.0.1:{port}",
        "channels.telegram.enabled": True, "channels.telegram.token": TG_TOKEN,
        "channels.telegram.webhook_secret": TG_SECRET,
        "channels.telegram.api_url": telegram.url, "channels.send_timeout": "2s",
        "worker.idle_sleep": "50ms", "dashboard.spikes.enabled": False,
        "dashboard.digest.enabled": False,
        # the seeded question must stay with people (open, on its clock): the bot's own
        # numbers are tested in tests/connectors/slack/test_bot.py
        "bot.enabled": False, "classifier.model": "off"})
    rt = bootstrap.build(live_settings, clock)
    rt.db.dispose()
    rt.db = rt.pipeline.db = catalog
    add_accounts(catalog, live_settings, clock)
    server = uvicorn.Server(uvicorn.Config(create_app(rt, run_worker=True), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    serving = asyncio.run_coroutine_threadsafe(server.serve(), loop)
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", rt, clock, telegram, loop)
    finally:
        server.should_exit = True
        serving.result(20)
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def page(live: Live) -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-quic"])
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="vi-VN")
        yield context.new_page()
        browser.close()


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("SWITCHBOARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _login(page: Any, live: Live, email: str) -> None:
    page.goto(f"{live.url}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _wait(condition: Any, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _deliver(live: Live, item: InboundMessage) -> str:
    """Into the inbox; the server's own worker (or this test) applies it: wait for it."""
    deliver(live.rt.pipeline, item)
    found: list[int] = []

    def applied() -> bool:
        with live.rt.db.read() as conn:
            found[:] = conn.execute(select(messages.c.ticket_id).where(
                messages.c.channel == item.channel.value,
                messages.c.external_id == item.external_id)).scalars().all()
        return bool(found)

    _wait(applied, f"{item.external_id} in a ticket")
    return f"MC-{found[0]}"


def _complaint(live: Live, external_id: str, text: str, chat: str) -> str:
    return _deliver(live, message(
        external_id, text, channel="telegram", sender=chat, when=live.clock.now(),
        sender_name="Nguyễn Thị Mai", meta={"chat_id": chat}))


def test_supplier_logs_in_sees_only_theirs_and_the_customer_gets_the_answer(
        live: Live, page: Any) -> None:
    sen = _complaint(live, "tg-1", SEN_COMPLAINT, "7001")
    hg = _complaint(live, "tg-2", HG_COMPLAINT, "7002")
    _login(page, live, SEN[0])
    assert page.url.endswith("/portal")
    refs = page.locator("#tickets tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.ref)")
    assert refs == [sen]
    assert hg not in page.content()
    _shot(page, "portal-list")
    page.click(f"a[href='/portal/tickets/{sen}']")
    assert "ôi thiu" in page.inner_text("#conversation")
    assert page.inner_text("#customer") == "Nguyễn Thị Mai"
    page.fill("#reply-text", "Nhà hàng Sen xin lỗi chị Mai, chúng tôi hoàn tiền 100% trong "
                             "hôm nay.")
    page.click("#reply button[type=submit]")
    page.wait_for_selector(".flash")
    assert "Đã gửi cho khách" in page.inner_text(".flash")
    _wait(lambda: any("hoàn tiền 100%" in s.get("text", "") for s in live.sent()),
          "the answer on the customer's Telegram")
    sent = [s for s in live.sent() if "hoàn tiền 100%" in s.get("text", "")]
    assert len(sent) == 1 and sent[0]["chat_id"] == "7001"
    page.reload()
    assert "hoàn tiền 100%" in page.inner_text("#conversation")
    _shot(page, "portal-ticket")
    # on a phone: nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/portal", f"/portal/tickets/{sen}"):
        page.goto(f"{live.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    _shot(page, "portal-phone")
    # another supplier's complaint by URL: not found
    answer = page.goto(f"{live.url}/portal/tickets/{hg}")
    assert answer is not None and answer.status == 404


def test_manager_dashboard_renders_the_seeded_numbers(live: Live, page: Any) -> None:
    start = live.clock.now()
    # day 1: two complaints about Sen (Telegram), one about Hoàng Gia (Telegram);
    # day 2: one more about Sen, and a question (Zalo)
    a = _complaint(live, "tg-1", SEN_COMPLAINT, "7001")
    _complaint(live, "tg-2", HG_COMPLAINT, "7002")
    _complaint(live, "tg-3", "Buffet Sen Tây Hồ phục vụ chậm, đồ ăn nguội ngắt, thất vọng",
               "7003")
    live.clock.advance(timedelta(days=1))
    _complaint(live, "tg-4", "Sen Tây Hồ món tôm bị hỏng, mùi khó chịu, đơn DH24043942",
               "7004")
    _deliver(live, message("zl-1", "Shop ơi voucher dùng được cuối tuần không ạ?",
                           channel="zalo", sender="zalo-user-9", when=live.clock.now()))
    # the first complaint is answered and resolved; the customer rates it 4
    with live.rt.db.write() as conn:
        desk.record_first_response(conn, live.rt.settings, 1, "lan", live.clock.now())
        desk.resolve(conn, live.rt.settings, 1, "lan", live.clock.now(), live.rt.secret)
    live.clock.advance(timedelta(minutes=5))
    _deliver(live, message("tg-5", "4", channel="telegram", sender="7001",
                           when=live.clock.now(), meta={"chat_id": "7001"}))
    # three days on, the open complaints have missed their deadlines
    live.clock.advance(timedelta(days=3))
    sweeper = Sweeper(live.rt.settings, live.rt.db, live.clock, keeper_for(live.rt.settings))
    for _ in range(100):  # the server's own sweeper may hold a ticket (SKIP LOCKED) meanwhile
        sweeper.sweep()
        with live.rt.db.read() as conn:
            if conn.execute(select(func.count()).select_from(tickets)
                            .where(tickets.c.sla_level == "red")).scalar_one() == 4:
                break
        time.sleep(0.05)
    _login(page, live, MANAGER["email"])
    since = start.astimezone(live.rt.settings.zone).date()
    page.goto(f"{live.url}/dashboard?since={since}&until={since + timedelta(days=6)}")
    kpi = {k: page.inner_text(f"#kpi-{k}") for k in ("tickets", "complaints", "open", "red",
                                                       "csat")}
    assert kpi == {"tickets": "5", "complaints": "4", "open": "4", "red": "4", "csat": "4"}
    bars = page.locator("#chart-channel rect.bar").evaluate_all(
        "bars => bars.map(b => [b.dataset.day, b.dataset.series, Number(b.dataset.value)])")
    day1, day2 = since.isoformat(), (since + timedelta(days=1)).isoformat()
    assert sorted(bars) == [[day1, "telegram", 3], [day2, "telegram", 1], [day2, "zalo", 1]]
    suppliers = page.locator("#chart-suppliers rect.bar").evaluate_all(
        "bars => bars.map(b => [b.dataset.label, Number(b.dataset.value)])")
    assert suppliers == [["Nhà hàng Sen Tây Hồ", 3], ["Buffet Lẩu Nướng Hoàng Gia", 1]]
    late = page.locator("#table-late_open tbody tr").count()
    assert late == 4  # the three complaints and the question
    assert a not in page.inner_text("#table-late_open")  # resolved: not late
    _shot(page, "dashboard")
    with page.expect_download() as download:
        page.click("a[href^='/dashboard/top_suppliers.csv']")
    csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[:3] == ["supplier,complaints,open,red,csat_avg",
                                         "Nhà hàng Sen Tây Hồ,3,2,2,4",
                                         "Buffet Lẩu Nướng Hoàng Gia,1,1,1,"]
