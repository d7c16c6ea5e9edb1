"""The knowledge base the bot answers from, and retrieval over it.

Customers ask the same few dozen questions in endless phrasings (with or without marks,
teencode, English), so entries are found by BM25 over the router's *folded* tokens, with
bigrams of adjacent syllables beside unigrams: Vietnamese words are mostly two syllables, and
`hoàn tiền` (refund) is not `tiền mặt` (cash). Typos in longer syllables are bent to the
knowledge base's words; English endings are stemmed (safe on folded Vietnamese, whose
syllables never end in `s`, `d` or `ing`); a small thesaurus of the trade maps synonyms and
English onto Vietnamese (`refund`, `trả tiền lại` → `hoàn tiền`). Filler (`ạ`, `shop`,
`mình`, `please`) and letter formulas (`Kính gửi …`, `Trân trọng`) are dropped, so greetings
never pick an entry. Marks are used where the writer typed them: `bạn` is filler and `bán`
is not; `mưa` (rain) does not match the knowledge base's `mua` (buy); an unmarked `dia chi`
keeps its `chi` because `địa chỉ` is one of the base's bigrams.

BM25F over three fields: example questions, and the Vietnamese and English answers (less
weight: they explain, and share words with other answers). An entry's score grows with the
share of its closest example question the message repeats. The weights are a dense matrix,
so a message costs a sum of a few rows. The confidence is a logistic function of ratios
(margin over the runner-up, closest question repeated, word pairs shared, words unknown),
fitted on tests/data/bot/questions.jsonl so that under 0.5 means "more likely wrong than
right", whatever the knowledge file.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from router._common_words import COMMON_SYLLABLES
from router.text import Normalized, Normalizer, fold
from router.typos import TypoCorrector

# Vietnamese particles, pronouns and politeness (as written); English function words (`many`
# must not be bent to `mang` by the typo corrector)
_FILLER = """
    ạ à ạh ah ak ơi ới ui ơ vậy vầy nhé nhá nha nhỉ hả hở nè nhen shop ad admin sàn bên cho em e
    mình tôi anh chị bạn tui tớ mik cháu bác xin chào thì là với giúp giùm dùm hỏi chút xíu nhờ
    vui lòng vâng dạ cảm ơn ok oke okay hello hi hey dear please pls thanks thank you the a an i
    me my we our us your is are am be been was were do does did of for to in on at it its this
    that there what which who whom whose how many much would could should will shall may might
    must just still also have has had haven hasn isn aren doesn didn wasn won t s m ll re ve d
    and or if so some any get via with from about into by as than then yet hers his her him they
    them their she he someone
"""
# Words typed without marks that are too often a real word to be dropped as filler:
# `có`, `đã`, `mà`/`mã`, `ít`, `họ`, `đơn` (as `don`, English `don't`), `cần`, `máy`.
_NOT_FILLER_UNMARKED = frozenset({"co", "da", "ma", "it", "ho", "don", "can", "may"})
_STOP_WRITTEN = frozenset(_FILLER.split())
_STOP_FOLDED = frozenset(fold(w) for w in _STOP_WRITTEN) - _NOT_FILLER_UNMARKED
_SALUTATION = re.compile(r"^\s*(?:xin )?(?:kính gửi|kinh gui|gửi|gui|chào|chao|dear|hi|hello)\b",
                         re.I)
_SIGN_OFF = re.compile(r"^\s*(?:trân trọng|tran trong|(?:xin )?(?:cảm ơn|cam on)|thanks|thank you|"
                       r"best|regards|kind regards|sincerely|cheers)\b", re.I)
_TONES = dict.fromkeys(map(ord, "\u0300\u0301\u0303\u0309\u0323"))  # as NFD writes them
# A well-formed folded Vietnamese syllable: onset, one to three vowels, coda
_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
                       r"[aeiouy]{1,3}(?:ch|nh|ng|[cmnpt])?")
# A small thesaurus of the trade, Vietnamese first: each row's first phrase stands for the
# others, in the knowledge base and in messages alike.
_SYNONYMS = (
    ("hoàn tiền", "refund", "money back", "trả tiền lại", "trả lại tiền", "lấy lại tiền",
     "hoàn lại tiền", "tiền có lấy lại"),
    ("hủy", "cancel", "cancellation"),
    ("đổi trả", "return", "exchange", "trả hàng", "trả lại hàng", "gửi trả"),
    ("giao hàng", "delivery", "deliver", "shipping", "ship", "vận chuyển", "courier"),
    ("mã giảm giá", "promo code", "discount code", "coupon", "code giảm giá",
     "mã khuyến mãi", "promo", "discount"),
    ("tài khoản", "account"), ("mật khẩu", "password", "pass"),
    ("đăng ký", "register", "registration", "sign up", "signup", "đăng kí"),
    ("đăng nhập", "login", "log in", "sign in"),
    ("liên hệ", "contact", "get in touch", "reach", "liên lạc"), ("hóa đơn", "invoice"),
    ("trả góp", "installment", "instalment"), ("bảo hành", "warranty", "guarantee"),
    ("chính hãng", "authentic", "genuine", "hàng thật", "real"),
    ("hàng giả", "fake", "counterfeit", "hàng fake", "hàng nhái"),
    ("quà tặng", "gift", "present", "làm quà"),
    ("nhà cung cấp", "supplier", "seller", "merchant", "vendor", "nhà bán", "partner"),
    ("khách sạn", "hotel", "resort"),
    ("đặt trước", "book ahead", "book", "reservation", "reserve", "đặt chỗ", "book trước"),
    ("tổng đài", "hotline", "call center", "phone number"),
    ("hết hạn", "expire", "expiry", "expiration", "quá hạn"), ("gia hạn", "extend", "extension"),
    ("thanh toán", "pay", "payment", "checkout"), ("tiền mặt", "cash"),
    ("ví điện tử", "e wallet", "ewallet", "wallet"),
    ("thế nào", "như thế nào", "kiểu gì", "ra sao", "cách nào", "bằng cách nào", "làm sao"),
    ("bao lâu", "how long", "mấy ngày", "bao nhiêu ngày"), ("địa chỉ", "address", "số nhà"),
    ("làm việc", "work", "working", "open", "opening"), ("miễn phí", "free"), ("sai", "wrong"),
    ("nước ngoài", "abroad", "overseas", "international", "quốc tế"),
    ("đánh giá", "review", "rating"), ("xóa", "delete", "remove"),
    ("dữ liệu cá nhân", "personal data"), ("số lượng lớn", "bulk", "wholesale", "mua sỉ"),
    ("công ty", "company", "corporate", "business", "doanh nghiệp", "cty"),
    ("thất bại", "failed", "fail", "lỗi"), ("trừ tiền", "charged", "deducted"),
    ("tích điểm", "loyalty", "points", "điểm thưởng", "điểm tích lũy"),
    ("mua", "buy", "purchase", "bought"), ("bán", "sell", "sold"), ("cần", "need"),
    ("muốn", "want", "would like"), ("dùng", "use", "sử dụng", "xài", "redeem"),
    ("nhận", "receive", "get"), ("gửi", "send", "sent"), ("đổi", "change"), ("ngày", "day", "days"),
    ("tuần", "week"), ("tháng", "month"), ("cửa hàng", "quán", "venue", "store", "cơ sở"),
    ("nhà hàng", "restaurant"), ("giá", "price"),
    ("phí", "fee", "charge", "surcharge", "phụ thu", "phụ phí"), ("điện thoại", "phone", "mobile"),
    ("đơn hàng", "order"), ("nhân viên", "staff"), ("thẻ", "card"),
    ("xác nhận", "confirm", "confirmation"), ("tình trạng", "status", "trạng thái"),
    ("ứng dụng", "app", "application"), ("cuối tuần", "weekend"), ("ngày lễ", "holiday", "lễ tết"),
    ("hỗ trợ", "support"),
)
# Fitted on tests/data/bot/questions.jsonl (top-1 right or not): see the module docstring.
_CONF_BIAS, _CONF_MARGIN, _CONF_PHRASED, _CONF_PAIRED, _CONF_UNKNOWN = (
    -2.02, 5.96, 3.71, 3.17, -2.98)
_MARGIN_PRIOR = 2.0  # × the rarest word's IDF: a lone weak match has no real margin
_K1, _B = 1.2, 0.75
_PHRASED_RANK = 0.5  # an entry's BM25F score grows by half the share of its closest question
_QUESTION_WEIGHT, _ANSWER_WEIGHT, _BIGRAM_WEIGHT = 1.0, 0.6, 1.0


@dataclass(frozen=True, slots=True)
class Entry:
    """One answer and the ways customers ask for it. `channels` empty: every channel."""

    id: str
    questions: tuple[str, ...]
    answer: str
    answer_en: str | None = None
    channels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    score: float  # BM25F, grown by the closest question's share
    confidence: float  # 0..1: how likely this entry answers the message


@lru_cache(maxsize=65536)
def _stem(token: str) -> str:
    """English plural, verb and adverb endings off: `fakes`, `refunded`, `shipping`,
    `internationally`."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    for suffix in ("ing", "ed"):
        if len(token) > len(suffix) + 2 and token.endswith(suffix):
            stem = token[:-len(suffix)]
            return stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else stem
    if len(token) > 5 and token.endswith("ly"):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-2] if token.endswith(("ches", "shes", "xes")) else token[:-1]
    return token


@lru_cache(maxsize=65536)
def _vowels(word: str) -> str:
    """A word without its tone marks but with its vowels' own (`mưa` → `mưa`, `hòa` and
    `hoà` → `hoa`): what tells words apart, whichever way the tone was typed."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", word).translate(_TONES))


def _thesaurus() -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    """Per first syllable, the phrases (longest first) and the words they stand for."""
    table: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for canonical, *synonyms in _SYNONYMS:
        target = tuple(fold(canonical).split())
        for synonym in synonyms:
            key = tuple(_stem(t) for t in fold(synonym).split())
            table.setdefault(key[0], []).append((key, target))
    for phrases in table.values():
        phrases.sort(key=lambda p: -len(p[0]))
    return table


def _substitute(words: Sequence[str], tokens: Sequence[str], stems: list[str]
                ) -> list[tuple[str, str, str, int]]:
    """(word, token, stem, replaced), synonyms replaced by the words they stand for
    (`refund`, `trả tiền lại` → `hoàn tiền`), so English and Vietnamese phrasings meet on
    the same terms; a replacement (1) is never filler (`sell` → `bán`, not `bạn`)."""
    result: list[tuple[str, str, str, int]] = []
    i = 0
    while i < len(tokens):
        for key, target in _THESAURUS.get(stems[i], ()):
            if tuple(stems[i:i + len(key)]) == key:
                result += [(t, t, t, 1) for t in target]
                i += len(key)
                break
        else:
            result.append((words[i], tokens[i], stems[i], 0))
            i += 1
    return result


def analyse(words: Sequence[str], tokens: Sequence[str], keep: Collection[str] = ()
            ) -> tuple[list[str], list[str]]:
    """The content syllables of a text and the bigrams of adjacent ones (never across a
    dropped filler word or a number). `keep`: bigrams that save an unmarked filler word."""
    stems = [_stem(t) for t in tokens]
    items = (_substitute(words, tokens, stems) if not _THESAURUS.keys().isdisjoint(stems)
             else [(w, t, st, 0) for w, t, st in zip(words, tokens, stems, strict=True)])
    content: list[str | None] = []
    for i, (word, token, stem, replaced) in enumerate(items):
        if replaced:
            stop = False
        elif token.isdigit():
            stop = True  # quantities and amounts say nothing of the topic
        elif word != token:  # written with marks: judge the word as written
            stop = word in _STOP_WRITTEN
        else:
            stop = token in _STOP_FOLDED and not (keep and (
                (i and f"{items[i - 1][1]} {token}" in keep)
                or (i + 1 < len(items) and f"{token} {items[i + 1][1]}" in keep)))
        content.append(None if stop else stem)
    unigrams = [t for t in content if t is not None]
    bigrams = [f"{a} {b}" for a, b in zip(content, content[1:], strict=False)
               if a is not None and b is not None]
    return unigrams, bigrams


_THESAURUS = _thesaurus()


def is_filler(word: str, token: str) -> bool:
    """A filler word (`ạ`, `shop`, `mình`, `please`), judged as written when it has marks."""
    return word in _STOP_WRITTEN if word != token else token in _STOP_FOLDED


def content_words(text: Normalized) -> list[str]:
    """The folded tokens that carry meaning (filler dropped, English stemmed)."""
    return analyse(text.words, text.tokens)[0]


def letter_body(text: str) -> str:
    """An email without its salutation line (`Kính gửi bộ phận CSKH,`) and from its
    sign-off (`Trân trọng,`) on, whose words would otherwise pick entries of their own."""
    lines = [line for line in text.splitlines() if line.strip()]
    for i in range(min(2, len(lines) - 1)):  # the subject may come first
        if _SALUTATION.match(lines[i]) and len(lines[i].split()) <= 8:
            lines = lines[:i] + lines[i + 1:]
            break
    for i in range(max(1, len(lines) - 3), len(lines)):
        if _SIGN_OFF.match(lines[i]) and len(lines[i].split()) <= 5:
            lines = lines[:i]
            break
    return "\n".join(lines)


Postings = dict[str, list[tuple[int, float]]]  # term → (entry, its weight there)


def _bm25f(docs: Sequence[Sequence[tuple[list[str], float]]]) -> tuple[Postings, dict[str, float]]:
    """Per term, each document's precomputed BM25F contribution (IDF included). A document
    is a list of fields, each its terms and weight; lengths are normalised per field."""
    n = len(docs)
    fields = max((len(d) for d in docs), default=0)
    averages = [sum(len(d[f][0]) for d in docs) / n or 1.0 for f in range(fields)]
    df: Counter[str] = Counter()
    weighted: list[dict[str, float]] = []
    for doc in docs:
        tf: dict[str, float] = {}
        for (terms, weight), average in zip(doc, averages, strict=True):
            norm = 1 - _B + _B * len(terms) / average
            for term, count in Counter(terms).items():
                tf[term] = tf.get(term, 0.0) + weight * count / norm
        df.update(tf.keys())
        weighted.append(tf)
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    postings: Postings = {}
    for index, tf in enumerate(weighted):
        for term, value in tf.items():
            boost = _BIGRAM_WEIGHT if " " in term else 1.0
            postings.setdefault(term, []).append(
                (index, boost * idf[term] * value * (_K1 + 1) / (value + _K1)))
    return postings, idf


class KnowledgeBase:
    """BM25F over the entries' questions and answers; see the module docstring. The index
    is two dense matrices: a row per term, its BM25F weight in each entry; and a row per
    word, its share of each example question. A message costs a sum of a few rows of each."""

    def __init__(self, entries: Sequence[Entry], normalizer: Normalizer) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self._normalizer = normalizer
        self._forms: dict[str, set[str]] = {}  # folded word → its vowels as the entries wrote it
        asked = [[self._terms(q) for q in e.questions] for e in self.entries]
        fields = [[([t for q in qs for t in q], _QUESTION_WEIGHT),
                   (self._terms(e.answer), _ANSWER_WEIGHT),
                   (self._terms(e.answer_en or ""), _ANSWER_WEIGHT)]
                  for e, qs in zip(self.entries, asked, strict=True)]
        postings, self._idf = _bm25f(fields)
        ids = self._ids = {term: row for row, term in enumerate(self._idf)}
        words = self._words = {t: row for row, t in enumerate(t for t in ids if " " not in t)}
        n = self._n = len(self.entries)
        self._weights = np.zeros((max(len(ids), 1), max(n, 1)), dtype=np.float32)
        for term, pairs in postings.items():
            for index, value in pairs:
                self._weights[ids[term], index] = value
        starts = [sum(len(qs) + 1 for qs in asked[:i]) for i in range(n)]
        shares = np.zeros((max(len(words), 1), max(sum(len(qs) + 1 for qs in asked), 1)),
                          dtype=np.float32)
        for questions, start in zip(asked, starts, strict=True):
            for column, question in enumerate(questions, start + 1):  # + 1: none empty
                used = {t for t in question if " " not in t}
                mass = sum(self._idf[t] for t in used) or 1.0
                for term in used:
                    shares[words[term], column] = self._idf[term] / mass
        self._shares, self._starts = shares, np.array(starts, dtype=np.intp)
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        self._bigrams = frozenset(t for t in self._idf if " " in t)
        self._masks: dict[str, np.ndarray | None] = {}
        # typos are bent only to words customers use (an answer's `message` is no `massage`)
        vocabulary = {t for qs in asked for q in qs for t in q if " " not in t}
        known = {t for phrases in _THESAURUS.values() for key, _ in phrases for t in key}
        self._typos = TypoCorrector(vocabulary, COMMON_SYLLABLES | _STOP_FOLDED | known)

    def _terms(self, text: str) -> list[str]:
        if not text:
            return []
        normalized = self._normalizer(text)
        pairs = list(zip(normalized.words, normalized.tokens, strict=True))
        if any(w != t for w, t in pairs):  # written with marks: its words say what they are
            for word, token in pairs:
                self._forms.setdefault(token, set()).add(_vowels(word))
        unigrams, bigrams = analyse(normalized.words, normalized.tokens)
        return unigrams + bigrams

    def query_terms(self, text: Normalized) -> tuple[list[str], list[str]]:
        """The content syllables of a message and their bigrams, typos bent to the
        knowledge base's words, a letter's salutation and sign-off left out."""
        if "\n" in text.original:
            body = letter_body(text.original)
            if body != text.original:
                text = self._normalizer(body)
        forms = self._forms  # `mưa` (rain) is no `mua` (buy) the knowledge base wrote
        words = list(text.words)
        tokens = [t if w == t or t not in forms or _vowels(w) in forms[t] else f"{t}~"
                  for w, t in zip(words, text.tokens, strict=True)]
        fixed = self._typos.correct(tokens)
        if fixed is not None:  # a real Vietnamese syllable is no typo (`chot` is `chốt`)
            pairs = [(w, t) if f == t or _SYLLABLE.fullmatch(t) else (f, f)
                     for w, t, f in zip(words, tokens, fixed, strict=True)]
            words, tokens = [w for w, _ in pairs], [t for _, t in pairs]
        return analyse(words, tokens, self._bigrams)

    def _mask(self, channel: str) -> np.ndarray | None:
        """Which entries may answer on the channel (None: all of them)."""
        if channel not in self._masks:
            allowed = [not e.channels or channel in e.channels for e in self.entries]
            self._masks[channel] = None if all(allowed) else ~np.array(allowed)
        return self._masks[channel]

    def search(self, text: Normalized, channel: str | None = None, limit: int = 3) -> list[Hit]:
        """The best entries for a message, best first; entries limited to other channels
        are left out (and are no rivals) when `channel` is given."""
        unigrams, bigrams = self.query_terms(text)
        ids, idf, words = self._ids, self._idf, self._words
        known = {t for t in unigrams if t in words}
        rows = [ids[t] for t in known.union(bigrams) if t in ids]
        if not rows or not self._n:
            return []
        phrased = np.maximum.reduceat(self._shares[[words[t] for t in known]].sum(axis=0),
                                      self._starts)
        ranked = self._weights[rows].sum(axis=0) * (1 + _PHRASED_RANK * phrased)
        excluded = self._mask(channel) if channel is not None else None
        if excluded is not None:
            ranked[excluded] = 0.0
        order = np.argsort(-ranked, kind="stable")[:max(limit, 2)].tolist()
        scores = ranked[order].tolist()
        if scores[0] <= 0:
            return []
        unknown = self._unknown_idf * len(set(unigrams) - known)
        unknown /= sum(idf[t] for t in known) + unknown or 1.0
        pairs = {ids[t] for t in bigrams if t in ids}
        paired = np.count_nonzero(self._weights[list(pairs)][:, order[:limit]], axis=0) / (
            len(set(bigrams)) or 1)
        hits: list[Hit] = []
        for position, (index, score) in enumerate(zip(order[:limit], scores, strict=False)):
            if score <= 0:
                break
            rival = (scores[1] if len(scores) > 1 else 0.0) if position == 0 else scores[0]
            margin = (score - rival) / (score + _MARGIN_PRIOR * self._unknown_idf)
            confidence = _confidence(margin, float(phrased[index]), float(paired[position]),
                                     unknown)
            if hits:  # a runner-up is never surer than the winner
                confidence = min(confidence, hits[0].confidence)
            hits.append(Hit(self.entries[index], score, confidence))
        return hits


def _confidence(margin: float, phrased: float, paired: float, unknown: float) -> float:
    """Probability that the entry answers the question, from its margin over the rival
    (negative for an entry that is not the best: only the best can be confident), the share
    of its closest example question the message repeats, the share of the message's word
    pairs it has, and the share of the message the knowledge base has no word for. All are
    ratios: they mean the same whatever the size of the knowledge base."""
    z = (_CONF_BIAS + _CONF_MARGIN * margin + _CONF_PHRASED * phrased
         + _CONF_PAIRED * paired + _CONF_UNKNOWN * unknown)
    return round(1.0 / (1.0 + math.exp(-z)), 4)
