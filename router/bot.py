"""The bot's decision for one message: answer it (a knowledge entry or an order's status)
or hand it to people, and why.

Pure: the caller looks up what only the store knows (which code-like tokens are orders and
whose, the writer's open orders) and passes it in, exactly as for `Classifier.classify`.
The order of the checks is the order of what matters most to the customer:

1. a request for a person is obeyed at once (the most hated bot is one you cannot leave);
2. a complaint is never answered by a bot, even when it mentions an order or asks;
3. an order-status ask is answered only with an order of the writer's own, never on a
   public channel, and a code the writer does not own gets a handover and no detail;
4. otherwise the knowledge base answers when confident, else people do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import ahocorasick

from router.classify import Classification, Prepared
from router.knowledge import Entry, KnowledgeBase, is_filler
from router.text import Normalized, fold, fold_tokens

__all__ = [
    "BotDecision",
    "OrderStatus",
    "asks_order_status",
    "code_candidates",
    "code_groups",
    "decide",
    "is_complaint",
    "not_helpful",
    "split_codes",
    "wants_person",
]

ORDER_STATES = ("placed", "confirmed", "shipping", "delivered", "cancelled", "returned",
                "refunded")


@dataclass(frozen=True, slots=True)
class OrderStatus:
    code: str
    supplier_id: str
    product: str
    status: str | None  # one of ORDER_STATES, or None when the import did not say
    status_at: datetime | None
    carrier: str | None
    tracking_code: str | None
    expected_at: datetime | None


@dataclass(frozen=True, slots=True)
class BotDecision:
    """What the bot does. On a handover `reason` says why; when the writer has several open
    orders and named none, `action` is "answer", `kind` "order_status", `order` None and
    `choices` their codes: the bot asks which one."""

    action: str  # "answer" | "handover"
    kind: str | None  # "faq" | "order_status" | None
    confidence: float
    reason: str | None
    entry: Entry | None = None
    order: OrderStatus | None = None
    choices: tuple[str, ...] = ()

    @property
    def faq_id(self) -> str | None:
        return self.entry.id if self.entry is not None else None

    @property
    def order_code(self) -> str | None:
        return self.order.code if self.order is not None else None


class _Cues:
    """Named phrase lists, written naturally (with diacritics; folded here), found in a
    text's padded tokens by one Aho-Corasick pass; `…` in a phrase allows up to five words
    in between (a small regular expression per list)."""

    def __init__(self, lists: Mapping[str, Sequence[str]]) -> None:
        keys: dict[str, set[str]] = {}
        gaps: dict[str, list[str]] = {}
        for name, phrases in lists.items():
            for phrase in phrases:
                pieces = [" ".join(fold_tokens(p)) for p in phrase.split("…")]
                if len(pieces) == 1:
                    keys.setdefault(f" {pieces[0]} ", set()).add(name)
                else:
                    gaps.setdefault(name, []).append(
                        r"(?: \S+){0,5} ".join(re.escape(p) for p in pieces))
        self._automaton = ahocorasick.Automaton()
        for key, names in keys.items():
            self._automaton.add_word(key, frozenset(names))
        self._automaton.make_automaton()
        self._gaps = [(name, re.compile(" (?:" + "|".join(parts) + ") "))
                      for name, parts in gaps.items()]
        self.found = lru_cache(maxsize=64)(self._found)  # decide() and its caller ask twice

    def _found(self, padded: str) -> frozenset[str]:
        names: set[str] = set()
        for _end, matched in self._automaton.iter(padded):
            names.update(matched)
        for name, gap in self._gaps:
            if name not in names and gap.search(padded):
                names.add(name)
        return frozenset(names)


_CUES = _Cues({
    "person": (
        "gặp nhân viên", "gặp người thật", "gặp người hỗ trợ", "gặp quản lý", "cho gặp",
        "muốn gặp người", "người thật", "tư vấn viên", "tổng đài viên", "nhân viên tư vấn",
        "nhân viên chăm sóc khách hàng", "chuyển nhân viên", "chuyển cho nhân viên",
        "chuyển sang nhân viên", "chuyển máy", "kết nối nhân viên", "kết nối với nhân viên",
        "nói chuyện với nhân viên", "nói chuyện với người", "nc với nhân viên",
        "chat với nhân viên", "chat với người thật", "nhắn với nhân viên", "cần nhân viên",
        "nhân viên liên hệ", "nhân viên nào online", "nhân viên … trực", "có ai trực",
        "ai là người", "có ai trả lời", "có ai ở đó", "có ai không", "hỗ trợ trực tiếp",
        "tư vấn trực tiếp", "trao đổi trực tiếp",
        "gọi lại cho", "trả lời tự động", "nói chuyện với bot", "nói chuyện với máy",
        "không phải bot", "talk to a human", "talk to a person", "speak to a human",
        "speak to a person", "speak to someone", "talk to someone", "real person",
        "human agent", "live agent", "to an agent", "a human", "connect me", "call me back",
        "someone from your team", "representative", "operator"),
    "not_helpful": (
        "không giúp được gì", "chẳng giúp được gì", "chả giúp được gì", "không giúp ích",
        "vẫn chưa hiểu", "vẫn không hiểu", "không phải cái mình hỏi", "không phải cái em hỏi",
        "không phải cái tôi hỏi", "không phải điều mình hỏi", "không phải câu mình hỏi",
        "không đúng câu hỏi", "không đúng cái mình hỏi", "trả lời không đúng", "trả lời sai",
        "trả lời không liên quan", "không liên quan gì", "hỏi một đằng", "vô dụng",
        "not helpful", "doesn t help", "didn t help", "does not help", "did not help",
        "doesn t answer", "does not answer", "didn t answer", "not what i asked", "useless"),
    # "where is my order": a phrase only an order's status answers; or a weaker when/where
    # ask (`bao giờ giao`) about something of one's own (`đơn`, `hàng`, `my order`, a code)
    "status": (
        "tình trạng đơn", "trạng thái đơn", "kiểm tra đơn", "kiểm tra … đơn", "check đơn",
        "check … đơn", "tra đơn", "tra cứu đơn", "tới đâu rồi", "đến đâu rồi", "đi tới đâu",
        "đi đến đâu", "giao tới đâu", "giao đến đâu", "where is my", "where s my",
        "track my", "status of", "order status", "has my order", "when will my",
        "is my order", "when does my", "my order … arrive", "my order … shipped",
        "my package … arrive"),
    "status_weak": (
        "đang ở đâu", "ở đâu rồi", "thế nào rồi", "sao rồi", "giao chưa", "gửi chưa",
        "ship chưa", "bao giờ giao", "khi nào giao", "giao hôm nào", "giao ngày nào",
        "bao giờ được giao", "khi nào được giao", "bao giờ nhận được", "khi nào nhận được",
        "bao giờ tới", "khi nào tới", "bao giờ đến", "khi nào đến", "bao giờ có hàng",
        "mấy ngày nữa", "bao lâu nữa", "đã giao chưa", "when will", "arrive", "shipped"),
    "mine": ("đơn", "đơn hàng", "hàng", "gói hàng", "kiện hàng", "đặt", "mua", "order",
             "my package", "my parcel"),
    "code_ask": ("chưa", "xác nhận", "giao", "gửi", "xuất", "kích hoạt", "hoàn tất", "xong",
                 "tới", "đến", "hôm nào", "bao giờ", "khi nào", "ship", "check", "kiểm tra",
                 "tra", "đâu", "thế nào", "status", "confirmed", "shipped", "arrive"),
    "how_to": ("làm sao", "làm thế nào", "như thế nào", "cách nào", "ở đâu trong",
               "xem ở đâu", "chỗ nào", "mục nào", "trên app", "trong app", "vào đâu",
               "how can i", "how do i", "how to"),
    # a grievance whatever its form: anger, blame, time lost, rhetorical questions
    "complaint": (
        "lừa đảo", "lừa khách", "làm ăn", "bán hàng kiểu gì", "làm việc kiểu gì",
        "kiểu gì vậy", "bức xúc", "bực mình", "thất vọng", "quá tệ", "tệ quá", "dịch vụ tệ",
        "quá đáng", "vô lý", "không chấp nhận được", "không hài lòng", "khiếu nại",
        "phản ánh", "phàn nàn", "tại sao", "vì sao", "vậy là sao", "để làm gì", "tính sao",
        "sao đây", "chịu trách nhiệm", "ai xử lý", "bồi thường", "đền bù", "tiền nào của nấy",
        "mà cũng bán", "có làm việc không đấy", "có muốn bán không", "có quản lý không",
        "không ai trả lời", "không ai bắt máy", "không ai nghe máy", "thái độ", "cộc lốc",
        "cúp máy", "hàng giả mà", "báo công an", "bóc phốt", "1 sao", "một sao", "ức chế",
        "bắt chờ", "mãi chưa", "mãi không", "sao … vẫn chưa", "sao … vẫn không", "vẫn chưa thấy",
        "vẫn chưa nhận", "vẫn chưa giao", "vẫn chưa được", "vẫn không thấy", "vẫn không nhận",
        "chưa thấy đâu", "unacceptable", "scam",
        "terrible", "worst", "ridiculous", "disappointed", "complaint", "money back",
        "without any notice", "without notice", "why was", "why did", "why has", "why have",
        "why haven t", "why hasn t", "still not", "still haven t", "still hasn t",
        "never again"),
    # a question about what to do or how things work, not about what went wrong
    "asking": (
        "trường hợp", "thì sao", "làm sao", "làm thế nào", "như thế nào", "thế nào",
        "kiểu gì", "bao lâu", "bao nhiêu", "ở đâu", "được không", "không ạ", "là gì", "sao ạ",
        "xử lý sao", "phải làm gì", "làm gì", "có cần", "bao giờ", "khi nào", "có … không",
        "có … chưa", "hay không", "không hay", "can i", "do i", "is there", "should i",
        "is it", "do you"),
})
# one syllable: matched as written, since `chán` (fed up) folds like `chân` (foot)
_COMPLAINT_WORDS = frozenset({"chán", "láo", "tệ", "đểu", "lừa"})
_ELAPSED = re.compile(r" (?:\d+|mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi|ca|hon) (?:ngay|"
                      r"tuan|thang|hom|tieng)(?! nua )(?: \S+){0,6}? (?:chua|van|ma|nhung) ")
_ANGRY = re.compile(r"\?\s*\?|[\U0001F620\U0001F621\U0001F624\U0001F92C]")
_ASKING_WORDS = frozenset({"nếu", "lỡ", "cách", "muốn", "mấy", "nào", "gì", "đâu", "bn", "how",
                           "what", "when", "where", "which", "who", "does"})
_ASKING_FOLDED = frozenset(fold(w) for w in _ASKING_WORDS)
# what went wrong: a bare request (`xóa tài khoản`) is not a complaint, `hàng bị vỡ` is
_PROBLEM_WORDS = frozenset({
    "bị", "chưa", "không", "chẳng", "chả", "hỏng", "hư", "lỗi", "vỡ", "móp", "sai", "nhầm",
    "thiếu", "mất", "chậm", "trễ", "muộn", "giả", "fake", "bẩn", "dơ", "hôi", "thối", "nguội",
    "kém", "dở", "bắt", "not", "no", "never", "broken", "wrong", "late", "missing", "damaged",
    "didn", "doesn", "hasn", "haven", "cannot", "isn", "wasn", "won"})
_PROBLEM_FOLDED = frozenset(fold(w) for w in _PROBLEM_WORDS)
# a message ending in one of these asks (`… toàn quốc không ad`, `… hả shop`) or is polite
_QUESTION_ENDS = frozenset({"khong", "chua", "vay", "ha", "nhi", "a", "nhe", "ak", "ah", "z",
                            "v", "ad", "shop", "nha"})


VAGUE = 5  # distinct words under which a message that asks nothing is not answered


def _asks(prepared: Prepared) -> bool:
    """A question mark, a yes/no frame, an asking word (`cách`, `mấy`, `how`) or a
    questioning last word: the message asks something. A few words that ask nothing (a
    subject line, `Yêu cầu số 7`) are not a question the bot should guess at."""
    text = prepared.text
    content = _content(text)
    return ("?" in text.original or prepared.question
            or _any_word(text, _ASKING_WORDS, _ASKING_FOLDED)
            or bool(text.tokens and text.tokens[-1] in _QUESTION_ENDS and content))


def _any_word(text: Normalized, written: frozenset[str], folded: frozenset[str]) -> bool:
    """One of these syllables, judged as written when the writer used marks (`máy`, a
    machine, is not `mấy`, how many), else by its folded form."""
    for word, token in zip(text.words, text.tokens, strict=True):
        if word in written if word != token else token in folded:
            return True
    return False


def _content(text: Normalized) -> list[str]:
    return [t for w, t in zip(text.words, text.tokens, strict=True) if not is_filler(w, t)]


def wants_person(text: Normalized) -> bool:
    """The writer asks for a person: `gặp nhân viên`, `người thật`, `talk to a human`."""
    return "person" in _CUES.found(text.padded)


def not_helpful(text: Normalized) -> bool:
    """The writer says an answer did not help: `vẫn chưa hiểu`, `not helpful`. Not part of
    `decide` (a first message cannot say the bot failed it): the pipeline asks it of a reply
    on a ticket the bot answered."""
    return "not_helpful" in _CUES.found(text.padded)


def asks_order_status(text: Normalized, *, has_code: bool = False) -> bool:
    """The writer asks where an order of theirs is: `đơn … tới đâu rồi`, `bao giờ giao`,
    `where is my order`; with `has_code` (a code-like token is in the text) also a mere
    `DH26100013 xác nhận chưa` or the code alone. Asking *how* to track (`làm sao tra đơn
    trên app`) is a knowledge question, not a status ask."""
    found = _CUES.found(text.padded)
    if "how_to" in found:
        return False
    if "status" in found or ("status_weak" in found and (has_code or "mine" in found)):
        return True
    return has_code and ("code_ask" in found or len(_content(text)) <= 2)


def is_complaint(prepared: Prepared, classification: Classification) -> bool:
    """A complaint, which the bot never answers: the writer sounds aggrieved (`làm ăn`,
    `lừa đảo`, `tại sao`, `??`, days lost: `3 tuần chưa thấy`, or a message opening with an
    accusing `sao`), or the classifier found a complaint, the message says what went wrong
    (`hàng bị vỡ`, `giao chậm`) and it does not merely ask what to do (`lỡ quán không nhận
    voucher thì làm sao`, `hoàn tiền mất bao lâu`)."""
    text = prepared.text
    found = _CUES.found(text.padded)
    words = _content(text)
    if ("complaint" in found or _ELAPSED.search(text.padded) or _ANGRY.search(text.original)
            or not _COMPLAINT_WORDS.isdisjoint(text.words) or words[:1] == ["sao"]):
        return True
    if classification.category == "inquiry" or classification.fallback:
        return False
    asking = (prepared.question or "?" in text.original or "asking" in found
              or _any_word(text, _ASKING_WORDS, _ASKING_FOLDED)
              or (len(text.tokens) > 1 and text.tokens[-1] in _QUESTION_ENDS))
    return not asking and _any_word(text, _PROBLEM_WORDS, _PROBLEM_FOLDED)


# A code is a token of letters and digits (inner `-`, `/`, `.` allowed) with a run of four
# digits or more: `DH26100003`, `MC200416`, `SPX-77120934`. Or a short prefix and digits
# written apart (`dh 26100003`, `ĐH-26100003`) when the prefix is no Vietnamese word (it has
# no vowel) or is in capitals; or digits alone after `đơn`, `mã`, `order`: `đơn 26100003`.
_TOKEN = re.compile(r"(?<![\w@.])#?(?:([A-Za-z]{1,5})[\s:#.-]{1,2}(\d{5,14})"
                    r"|([A-Za-z0-9]+(?:[-/.][A-Za-z0-9]+)*))(?![\w@])")
_DIGIT_RUN = re.compile(r"\d{4,}")
_AMOUNT = re.compile(r"\d[\d.,]*(?:d|k|vnd|dong|tr|trieu|usd)", re.IGNORECASE)
_CODE_WORDS = frozenset({"don", "hang", "ma", "order", "so", "code"})
_VOWELS = frozenset("aeiouy")
_MARKS = dict.fromkeys(range(0x0300, 0x0370))  # combining diacritics, dropped after NFD


def code_groups(text: str) -> list[tuple[str, ...]]:
    """Per code-like token, its possible spellings in upper case, the most likely first:
    `SPX-77120934` as written and joined (`SPX77120934`), `dh 26100003` joined
    (`DH26100003`) and hyphenated (`DH-26100003`), since the store holds codes as the
    import spelled them. Phone numbers, email addresses, amounts (`1.500.000đ`, `500000k`)
    and dates are not codes: a stray candidate turns an answer into a handover."""
    if _DIGIT_RUN.search(text) is None:
        return []
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d")).translate(_MARKS)
    groups: dict[str, tuple[str, ...]] = {}
    for match in _TOKEN.finditer(text):
        prefix, digits, token = match.groups()
        if token is None:
            if prefix.lower() in _CODE_WORDS:
                spellings: tuple[str, ...] = (digits,)
            elif prefix.isupper() or _VOWELS.isdisjoint(prefix.lower()):
                joined, hyphenated = prefix.upper() + digits, f"{prefix.upper()}-{digits}"
                written_with_hyphen = "-" in match.group(0)
                spellings = (hyphenated, joined) if written_with_hyphen else (joined, hyphenated)
            else:
                continue
        elif (_DIGIT_RUN.search(token) and any(c.isalpha() for c in token)
              and len(token) <= 32 and not _AMOUNT.fullmatch(token)):
            upper = token.upper()
            compact = re.sub(r"[^A-Z0-9]", "", upper)
            spellings = (upper, compact) if compact != upper else (upper,)
        else:
            continue
        groups.setdefault(spellings[0], spellings)
    return list(groups.values())


def code_candidates(text: str) -> list[str]:
    """Every spelling of every code-like token in the text (see `code_groups`), for the
    caller to look up in the orders it holds; then `split_codes` sorts them."""
    return [spelling for group in code_groups(text) for spelling in group]


def split_codes(text: str, held: Collection[str], own: Collection[str]
                ) -> tuple[list[str], list[str]]:
    """The writer's own codes in the text and the foreign ones, as `decide` wants them.
    `held`: the candidates the store holds; `own`: those of them that are the writer's.
    A token counts once, under the spelling the store holds; one the store does not hold
    is foreign under its first spelling."""
    mine: list[str] = []
    foreign: list[str] = []
    for spellings in code_groups(text):
        found = next((s for s in spellings if s in held), None)
        if found is not None and found in own:
            mine.append(found)
        else:
            foreign.append(found or spellings[0])
    return mine, foreign


def decide(prepared: Prepared, classification: Classification, kb: KnowledgeBase, *,
           channel: str, mode: str,
           orders_in_text: Mapping[str, OrderStatus],
           foreign_codes: Sequence[str],
           own_open_orders: Sequence[OrderStatus],
           threshold: float = 0.5) -> BotDecision:
    """The bot's decision; see the module docstring for the order of the checks.

    `mode` is "full" on private chats and email, "faq" on public comments, where only
    knowledge answers are given. `orders_in_text` holds the writer's own orders among the
    codes in the text; `foreign_codes` the rest (someone else's or unknown)."""
    if mode not in ("full", "faq"):
        raise ValueError(f"mode must be 'full' or 'faq', not {mode!r}")
    text = prepared.text
    if wants_person(text):
        return BotDecision("handover", None, 1.0, "customer_request")
    if is_complaint(prepared, classification):
        return BotDecision("handover", None, 1.0, "complaint")
    if asks_order_status(text, has_code=bool(orders_in_text or foreign_codes)):
        return _order_status(mode, orders_in_text, foreign_codes, own_open_orders)
    if not _asks(prepared) and len({t for t in _content(text) if not t.isdigit()}) < VAGUE:
        return BotDecision("handover", None, 0.0, "low_confidence")  # `Yêu cầu số 7`
    hits = kb.search(text, channel, limit=1)
    if hits and hits[0].confidence >= threshold:
        return BotDecision("answer", "faq", hits[0].confidence, None, entry=hits[0].entry)
    confidence = hits[0].confidence if hits else 0.0
    return BotDecision("handover", None, confidence, "low_confidence")


def _order_status(mode: str, own: Mapping[str, OrderStatus], foreign: Sequence[str],
                  open_orders: Sequence[OrderStatus]) -> BotDecision:
    """The answer to "where is my order": only ever an order of the writer's own."""
    if mode == "faq":
        return BotDecision("handover", None, 1.0, "public_channel")
    if own:
        return BotDecision("answer", "order_status", 1.0, None, order=next(iter(own.values())))
    if foreign:
        return BotDecision("handover", None, 1.0, "unknown_order")
    if len(open_orders) == 1:
        return BotDecision("answer", "order_status", 1.0, None, order=open_orders[0])
    if open_orders:
        return BotDecision("answer", "order_status", 1.0, None,
                           choices=tuple(o.code for o in open_orders))
    return BotDecision("handover", None, 1.0, "unknown_order")
