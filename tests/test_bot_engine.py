"""The bot's pure decision engine, function by function: code shapes, the cues (with and
without diacritics, teencode, English), retrieval and its confidence, and the ownership rules
that keep one customer's order from another."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router import Classification, Classifier, Context, Prepared, fold
from router.bot import (
    BotDecision,
    OrderStatus,
    asks_order_status,
    code_candidates,
    code_groups,
    decide,
    is_complaint,
    not_helpful,
    split_codes,
    wants_person,
)
from router.knowledge import Entry, KnowledgeBase, _confidence, letter_body
from switchboard.settings import load_settings
from switchboard.ticket_rules.classification import build_classifier
from tests.conftest import CONFIG

ENTRIES = [
    Entry("refund_time", ("Bao lâu thì được hoàn tiền?", "Hoàn tiền về ví mất mấy ngày?",
                          "How long does a refund take?"),
          "Hoàn tiền về ví điện tử trong 1–3 ngày làm việc.",
          "Refunds reach e-wallets in 1–3 days."),
    Entry("voucher_use", ("Làm sao để dùng voucher?", "Voucher điện tử sử dụng như thế nào?",
                          "How do I use my voucher?"),
          "Mở ứng dụng, chọn voucher và đưa mã QR cho nhân viên cửa hàng."),
    Entry("password", ("Quên mật khẩu thì làm sao?", "Không nhận được mã OTP đăng nhập"),
          "Bấm Quên mật khẩu để nhận mã OTP qua SMS."),
    Entry("zalo_only", ("Quét mã QR Zalo OA ở đâu?",), "Quét mã QR trên trang liên hệ.",
          channels=("zalo",)),
]


@cache
def classifier() -> Classifier:
    return build_classifier(load_settings(CONFIG, environ={}), [])


@cache
def kb() -> KnowledgeBase:
    return KnowledgeBase(ENTRIES, classifier().normalizer)


def prep(text: str) -> Prepared:
    return classifier().prepare(text)


def inquiry(category: str = "inquiry", fallback: bool = False) -> Classification:
    return Classification(category, None, None, 0.9, (), "normal", (), None, fallback, {})


def order(code: str, status: str = "shipping") -> OrderStatus:
    placed = datetime(2026, 12, 8, 14, 20, tzinfo=UTC)
    return OrderStatus(code, "SUP001", "Nồi chiên", status, placed,
                       "GHN", "GAKT9F4N", datetime(2026, 12, 11, 18, 0, tzinfo=UTC))


def bot(text: str, *, mode: str = "full", own: dict[str, OrderStatus] | None = None,
        foreign: tuple[str, ...] = (), open_orders: tuple[OrderStatus, ...] = (),
        classification: Classification | None = None, channel: str = "messenger",
        knowledge: KnowledgeBase | None = None) -> BotDecision:
    prepared = prep(text)
    classification = classification or classifier().classify(prepared, Context(channel))
    return decide(prepared, classification, knowledge or kb(), channel=channel, mode=mode,
                  orders_in_text=own or {}, foreign_codes=foreign, own_open_orders=open_orders)


# --- codes -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("đơn DH26100003 tới đâu rồi", ["DH26100003"]),
    ("MC200416 giao chưa", ["MC200416"]),
    ("mc200416 giao chưa", ["MC200416"]),
    ("SPX-77120934 di toi dau roi", ["SPX-77120934", "SPX77120934"]),
    ("dh 26100003 đâu rồi", ["DH26100003", "DH-26100003"]),
    ("ĐH-26100003", ["DH-26100003", "DH26100003"]),
    ("#DH26100003 xác nhận chưa", ["DH26100003"]),
    ("đơn 26100003 giao chưa", ["26100003"]),
    ("order #26100003 status", ["26100003"]),
])
def test_code_candidates_of_any_shape(text: str, expected: list[str]) -> None:
    assert code_candidates(text) == expected


@pytest.mark.parametrize("text", [
    "sđt của mình 0903 481 726, gọi lại giúp", "0903481726", "+84903481726",
    "email huynh.dung02@gmail.com", "đã bị trừ 1.150.000đ", "voucher 500000k", "ngày 25/11/2026",
    "iPhone 16 và Galaxy A56 8GB/256GB", "mua 2 voucher giá 289000", "chỉ có mã",
])
def test_phones_emails_amounts_and_dates_are_not_codes(text: str) -> None:
    assert code_candidates(text) == []


def test_split_codes_sorts_own_foreign_and_unknown() -> None:
    text = "DH26100001, SPX-77120934 và DH26109999"
    held = {"DH26100001", "SPX-77120934"}
    mine, foreign = split_codes(text, held, own={"SPX-77120934"})
    assert mine == ["SPX-77120934"]
    assert foreign == ["DH26100001", "DH26109999"]  # someone else's; not an order at all
    assert code_groups("spx 77120934") == [("SPX77120934", "SPX-77120934")]
    assert split_codes("spx 77120934", held, own=held) == (["SPX-77120934"], [])


# --- cues --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "gặp nhân viên", "cho minh gap nhan vien tu van voi", "tôi muốn nói chuyện với người thật",
    "tư vấn viên đâu rồi", "cho e nc vs nv đc ko", "chuyển máy cho nhân viên giúp e",
    "I'd like to talk to a human, please.", "connect me to an agent pls", "GẶP NHÂN VIÊN",
])
def test_wants_person(text: str) -> None:
    assert wants_person(prep(text).text)
    assert wants_person(prep(fold(text)).text)


@pytest.mark.parametrize("text", [
    "nhân viên giao hàng đến trễ", "chat với người bán ở đâu vậy ad", "voucher dùng thế nào",
])
def test_not_a_person_request(text: str) -> None:
    assert not wants_person(prep(text).text)


@pytest.mark.parametrize(("text", "expected"), [
    ("không giúp được gì cả", True), ("vẫn chưa hiểu", True), ("van chua hieu", True),
    ("không phải cái mình hỏi", True), ("that's not helpful", True),
    ("that doesn't answer my question", True),
    ("mình không hiểu cách dùng voucher", False), ("cảm ơn shop", False),
])
def test_not_helpful(text: str, expected: bool) -> None:
    assert not_helpful(prep(text).text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("đơn DH26100001 của e tới đâu rồi", True), ("don hang cua minh bao gio giao vay shop", True),
    ("đh của mình giao chưa", True), ("kiểm tra tình trạng đơn hàng giúp e", True),
    ("where is my order?", True), ("Status of order DH26100013 please", True),
    ("hang e dat hom truoc toi dau roi a", True),
    ("Làm sao để kiểm tra tình trạng đơn hàng?", False), ("giao hàng mất bao lâu", False),
    ("How can I track my order?", False), ("voucher dùng thế nào", False),
])
def test_asks_order_status(text: str, expected: bool) -> None:
    assert asks_order_status(prep(text).text) is expected


def test_a_code_with_a_status_word_or_alone_asks_the_status() -> None:
    assert asks_order_status(prep("DH26100013").text, has_code=True)
    assert asks_order_status(prep("#DH26100006 xac nhan chua a").text, has_code=True)
    assert not asks_order_status(prep("DH26100013 muốn xuất hóa đơn VAT thì làm sao").text,
                                 has_code=True)


@pytest.mark.parametrize("text", [
    "hoàn tiền gì mà 3 tuần chưa thấy về vậy, lừa đảo à",
    "tại sao giao 2 tuần chưa tới, làm ăn kiểu gì?",
    "Sao voucher của tôi nhà hàng không nhận vậy??",
    "Sao tôi mua voucher khách sạn mà cuối tuần bắt phụ thu 500k",
    "đã 5 ngày mà đơn vẫn chờ xác nhận",
    "This is unacceptable, I want my money back.",
    "spa làm ăn chán",
])
def test_complaints_with_or_without_diacritics(text: str) -> None:
    for variant in (text, fold(text)):
        prepared = prep(variant)
        assert is_complaint(prepared, inquiry()), variant


@pytest.mark.parametrize("text", [
    "hoàn tiền về ví mất bao lâu ạ", "lỡ quán bảo không nhận voucher thì e phải làm gì ạ",
    "ship cod toàn quốc ko ad", "voucher spa còn 1 tuần nữa hết hạn, gia hạn được không",
])
def test_questions_on_a_service_are_not_complaints(text: str) -> None:
    assert not is_complaint(prep(text), inquiry("service"))


def test_a_confident_complaint_with_no_question_is_one() -> None:
    text = "Máy lọc không khí giao tới vỡ mặt nạ, hộp móp méo, shipper còn ko cho kiểm hàng"
    assert is_complaint(prep(text), inquiry("product"))
    assert not is_complaint(prep(text), inquiry("product", fallback=True))


# --- retrieval ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "entry"), [
    ("Hoàn tiền về ví mất bao lâu vậy shop?", "refund_time"),
    ("hoan tien ve vi mat bao lau", "refund_time"),
    ("bao lâu thì đc hoàn tiền ạ", "refund_time"),
    ("how long until I get my refund", "refund_time"),
    ("voucher xài sao vậy shop", "voucher_use"),
    ("ko nhan dc ma otp", "password"),
    ("quen mk", "password"),
])
def test_search_finds_the_entry(text: str, entry: str) -> None:
    hits = kb().search(prep(text).text, "messenger")
    assert hits and hits[0].entry.id == entry
    assert all(a.confidence >= b.confidence for a, b in zip(hits, hits[1:], strict=False))


def test_greetings_and_filler_match_nothing() -> None:
    assert kb().search(prep("chào shop ạ, cho em hỏi với").text) == []


def test_channel_limited_entries() -> None:
    text = prep("quét mã QR Zalo OA ở đâu").text
    assert kb().search(text, "zalo")[0].entry.id == "zalo_only"
    assert all(h.entry.id != "zalo_only" for h in kb().search(text, "messenger"))
    assert bot("quét mã QR Zalo OA ở đâu", channel="messenger").faq_id != "zalo_only"


def test_empty_knowledge_base() -> None:
    empty = KnowledgeBase([], classifier().normalizer)
    assert empty.search(prep("hoàn tiền bao lâu").text) == []
    decision = bot("hoàn tiền bao lâu", knowledge=empty)
    assert (decision.action, decision.reason, decision.confidence) == ("handover",
                                                                      "low_confidence", 0.0)


def test_confidence_grows_with_the_margin_and_the_phrasing() -> None:
    margins = [_confidence(m, 0.6, 0.5, 0.1) for m in (-0.5, 0.0, 0.2, 0.5, 1.0)]
    assert margins == sorted(margins) and len(set(margins)) == len(margins)
    assert all(0.0 <= c <= 1.0 for c in margins)
    assert _confidence(0.3, 0.2, 0.5, 0.1) < _confidence(0.3, 0.9, 0.5, 0.1)
    assert _confidence(0.3, 0.6, 0.1, 0.1) < _confidence(0.3, 0.6, 0.8, 0.1)
    assert _confidence(0.3, 0.6, 0.5, 0.6) < _confidence(0.3, 0.6, 0.5, 0.0)
    clear = kb().search(prep("bao lâu thì được hoàn tiền").text)[0]
    vague = kb().search(prep("voucher hoàn tiền dùng thế nào bao lâu").text)[0]
    assert clear.confidence > vague.confidence


def test_letters_lose_their_formulas() -> None:
    letter = "Hoàn tiền\nKính gửi bộ phận CSKH,\nTôi hỏi về hoàn tiền.\nTrân trọng,\nAn"
    assert letter_body(letter) == "Hoàn tiền\nTôi hỏi về hoàn tiền."


# --- decisions ---------------------------------------------------------------------------

def test_order_of_the_checks() -> None:
    mine = {"DH26100001": order("DH26100001")}
    assert bot("gặp nhân viên, đơn DH26100001 tới đâu rồi", own=mine).reason == \
        "customer_request"
    complaint = bot("đơn DH26100001 giao 2 tuần chưa tới, làm ăn kiểu gì?", own=mine)
    assert (complaint.action, complaint.reason, complaint.order) == ("handover", "complaint",
                                                                     None)
    answer = bot("đơn DH26100001 tới đâu rồi", own=mine)
    assert (answer.action, answer.kind, answer.order_code) == ("answer", "order_status",
                                                               "DH26100001")
    faq = bot("hoàn tiền về ví mất bao lâu")
    assert (faq.action, faq.kind, faq.faq_id) == ("answer", "faq", "refund_time")
    assert faq.confidence >= 0.5
    unsure = bot("trời hôm nay mưa to quá")
    assert (unsure.action, unsure.reason) == ("handover", "low_confidence")


def test_never_an_order_detail_for_a_code_of_someone_else() -> None:
    decision = bot("đơn DH26100008 tới đâu rồi", foreign=("DH26100008",),
                   open_orders=(order("DH26100001"),))
    assert (decision.action, decision.reason, decision.order, decision.choices) == (
        "handover", "unknown_order", None, ())


def test_public_channels_never_give_order_details() -> None:
    mine = {"DH26100001": order("DH26100001")}
    for own, open_orders in ((mine, ()), ({}, (order("DH26100001"),))):
        decision = bot("đơn DH26100001 tới đâu rồi", mode="faq", own=own,
                       open_orders=open_orders, channel="facebook_comment")
        assert (decision.action, decision.reason, decision.order) == ("handover",
                                                                      "public_channel", None)
    assert bot("hoàn tiền về ví mất bao lâu", mode="faq").faq_id == "refund_time"


def test_without_a_code_the_writers_open_orders_decide() -> None:
    one = bot("đơn của mình giao chưa vậy shop", open_orders=(order("DH26100001"),))
    assert (one.action, one.order_code) == ("answer", "DH26100001")
    several = bot("đơn của mình giao chưa vậy shop",
                  open_orders=(order("DH26100001"), order("MC200416")))
    assert (several.action, several.kind, several.order, several.choices) == (
        "answer", "order_status", None, ("DH26100001", "MC200416"))
    none = bot("đơn của mình giao chưa vậy shop")
    assert (none.action, none.reason) == ("handover", "unknown_order")


def test_mode_must_be_known() -> None:
    with pytest.raises(ValueError, match="mode"):
        bot("hoàn tiền bao lâu", mode="off")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["DH26100001", "DH26100002", "MC200416", "SPX-77120934"]),
                max_size=3, unique=True),
       st.lists(st.sampled_from(["DH26100008", "DH26109999"]), max_size=2, unique=True),
       st.sampled_from(["full", "faq"]),
       st.sampled_from(["đơn {} tới đâu rồi", "{} giao chưa shop", "check đơn {} giúp e",
                        "where is my order {}", "{}"]))
def test_only_the_writers_own_orders_are_ever_told(
        own: list[str], foreign: list[str], mode: str, template: str) -> None:
    text = template.format(" ".join(own + foreign))
    mine = {c: order(c) for c in own}
    decision = bot(text, mode=mode, own=mine, foreign=tuple(foreign),
                   open_orders=(order("DH26100002"),))
    if decision.order is not None:
        assert mode == "full"
        assert decision.order.code in mine or (not own and not foreign
                                               and decision.order.code == "DH26100002")
    if mode == "faq":
        assert decision.kind != "order_status" and not decision.choices
