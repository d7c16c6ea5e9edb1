"""The knowledge base the bot answers from, and retrieval over it.

Customers ask the same few dozen questions in endless phrasings, with or without diacritics,
in teencode or English, so an entry is found by BM25 over the router's *folded* tokens (the
form the rules match), not by exact phrases. Vietnamese words are usually two syllables
(`hoàn tiền`, `giao hàng`), so bigrams of adjacent syllables are indexed beside unigrams:
they tell `hoàn tiền` (refund) from `tiền mặt` (cash) where single syllables overlap. Typos
in longer syllables (`voucer`, `hoaan`) are bent to the knowledge base's own words, and
English endings are stemmed (`refunded`, `fakes`), which is safe on folded Vietnamese: its
syllables never end in `s`, `d` or `ing`.

Filler (`ạ`, `ơi`, `shop`, `mình`, `cho em hỏi`) and the formulas of letters (`Kính gửi …`,
`Trân trọng`) are dropped, so a greeting never decides which entry wins. A stop word is
judged on the word *as written* when it carries marks (`bạn`, you, is filler; `bán`, sell,
is not), and a word typed without marks is kept when it forms one of the knowledge base's
own bigrams with a neighbour (`dia chi` is `địa chỉ`, an address, not `chị`).

BM25F with three fields: an entry's example questions (phrased like customers) and its
answers in Vietnamese and in English (weighted less: they explain, and share words with
other answers; apart, so the short English answer is not drowned by the Vietnamese one). Scores are precomputed per (term, entry), so a query costs one dictionary lookup
per term. The confidence is a logistic function of how much of the question's content the
top entry explains (IDF-weighted coverage) and of its margin over the runner-up, fitted on
the labelled questions so that under 0.5 means "more likely wrong than right".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from router._common_words import COMMON_SYLLABLES
from router.text import Normalized, Normalizer, fold
from router.typos import TypoCorrector

_FILLER = (
    # Vietnamese particles, pronouns and politeness, as written
    "ạ", "à", "ạh", "ah", "ak", "ơi", "ới", "ui", "ơ", "vậy", "vầy", "nhé", "nhá", "nha",
    "nhỉ", "hả", "hở", "nè", "nhen", "shop", "ad", "admin", "sàn", "bên", "cho", "em", "e",
    "mình", "tôi", "anh", "chị", "bạn", "tui", "tớ", "mik", "cháu", "bác", "xin", "chào",
    "thì", "là", "với", "giúp", "giùm", "dùm", "hỏi", "chút", "xíu", "nhờ", "vui", "lòng",
    "vâng", "dạ", "ok", "oke", "okay",
    # English function words (`many` must not be bent to `mang` by the typo corrector)
    "hello", "hi", "hey", "dear", "please", "pls", "thanks", "thank", "you", "the", "a",
    "an", "i", "me", "my", "we", "our", "us", "your", "is", "are", "am", "be", "been", "was",
    "were", "do", "does", "did", "of", "for", "to", "in", "on", "at", "it", "its", "this",
    "that", "there", "what", "which", "who", "whom", "whose", "how", "many", "much", "would",
    "could", "should", "will", "shall", "may", "might", "must", "just", "still", "also",
    "have", "has", "had", "haven", "hasn", "isn", "aren", "doesn", "didn", "wasn", "won",
    "t", "s", "m", "ll", "re", "ve", "d", "and", "or", "if", "so", "some", "any", "get",
    "via", "with", "from", "about", "into", "by", "as", "than", "then", "yet", "hers",
    "his", "her", "him", "they", "them", "their", "she", "he", "someone", "something",
)
# Words typed without marks that are too often a real word to be dropped as filler:
# `có`, `đã`, `mà`/`mã`, `tờ`, `ít`, `họ`, `đơn` (as `don`, English `don't`), `cần`.
_NOT_FILLER_UNMARKED = frozenset({"co", "da", "ma", "to", "it", "ho", "don", "can", "may"})
_STOP_WRITTEN = frozenset(_FILLER)
_STOP_FOLDED = frozenset(fold(w) for w in _FILLER) - _NOT_FILLER_UNMARKED
_SALUTATION = re.compile(r"^\s*(?:kính gửi|kinh gui|gửi|gui|chào|chao|xin chào|xin chao|dear|"
                         r"hi|hello)\b", re.IGNORECASE)
_SIGN_OFF = re.compile(r"^\s*(?:trân trọng|tran trong|cảm ơn|cam on|xin cảm ơn|xin cam on|"
                       r"thanks|thank you|best|regards|kind regards|sincerely|cheers)\b",
                       re.IGNORECASE)
# A small thesaurus of the trade, Vietnamese first: each row's first phrase stands for the
# others, in the knowledge base and in messages alike.
_SYNONYMS = (
    ("hoàn tiền", "refund", "money back", "trả tiền lại", "trả lại tiền", "lấy lại tiền",
     "hoàn lại tiền", "tiền có lấy lại"),
    ("hủy", "cancel", "cancellation"),
    ("đổi trả", "return", "exchange", "trả hàng", "trả lại hàng", "gửi trả"),
    ("giao hàng", "delivery", "deliver", "shipping", "ship", "vận chuyển", "courier"),
    ("mã giảm giá", "promo code", "discount code", "coupon", "voucher code", "code giảm giá",
     "mã khuyến mãi", "promo", "discount"),
    ("tài khoản", "account"), ("mật khẩu", "password", "pass"),
    ("đăng ký", "register", "registration", "sign up", "signup", "đăng kí"),
    ("đăng nhập", "login", "log in", "sign in"),
    ("liên hệ", "contact", "get in touch", "reach", "liên lạc"),
    ("hóa đơn", "invoice"), ("trả góp", "installment", "instalment"),
    ("bảo hành", "warranty", "guarantee"),
    ("chính hãng", "authentic", "genuine", "hàng thật", "real"),
    ("hàng giả", "fake", "counterfeit", "hàng fake", "hàng nhái"),
    ("quà tặng", "gift", "present", "làm quà"),
    ("nhà cung cấp", "supplier", "seller", "merchant", "vendor", "nhà bán", "partner"),
    ("khách sạn", "hotel", "resort"),
    ("đặt trước", "book ahead", "book", "reservation", "reserve", "đặt chỗ", "book trước"),
    ("tổng đài", "hotline", "call center", "phone number"),
    ("hết hạn", "expire", "expiry", "expiration", "quá hạn"),
    ("gia hạn", "extend", "extension"),
    ("thanh toán", "pay", "payment", "checkout"), ("tiền mặt", "cash"),
    ("ví điện tử", "e wallet", "ewallet", "wallet"),
    ("bao lâu", "how long", "mấy ngày", "bao nhiêu ngày"),
    ("địa chỉ", "address"), ("miễn phí", "free"), ("sai", "wrong"),
    ("nước ngoài", "abroad", "overseas", "international", "quốc tế"),
    ("đánh giá", "review", "rating"), ("xóa", "delete", "remove"),
    ("dữ liệu cá nhân", "personal data"), ("số lượng lớn", "bulk", "wholesale", "mua sỉ"),
    ("công ty", "company", "corporate", "business", "doanh nghiệp", "cty"),
    ("thất bại", "failed", "fail", "lỗi"), ("trừ tiền", "charged", "deducted"),
    ("tích điểm", "loyalty", "points", "điểm thưởng", "điểm tích lũy"),
)
# Fitted on tests/data/bot/questions.jsonl (top-1 right or not): see the module docstring.
_CONF_BIAS, _CONF_COVERAGE, _CONF_MARGIN = -5.0, 7.0, 4.0
_K1, _B = 1.2, 0.75
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
    score: float  # raw BM25F score
    confidence: float  # 0..1, from the content covered and the margin over the best rival


def _stem(token: str) -> str:
    """English plural and verb endings off: `fakes`, `refunded`, `shipping`."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    for suffix in ("ing", "ed"):
        if len(token) > len(suffix) + 2 and token.endswith(suffix):
            stem = token[:-len(suffix)]
            return stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else stem
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-2] if token.endswith(("ches", "shes", "xes")) else token[:-1]
    return token


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


def _substitute(words: Sequence[str], tokens: Sequence[str]
                ) -> tuple[Sequence[str], Sequence[str]]:
    """Synonyms replaced by the words they stand for (`refund`, `trả tiền lại` → `hoàn
    tiền`), so English and Vietnamese phrasings meet on the same terms."""
    if _THESAURUS.keys().isdisjoint(tokens) and not any(
            t.isascii() and _stem(t) in _THESAURUS for t in tokens):
        return words, tokens
    stems = [_stem(t) if t.isascii() else t for t in tokens]
    new_words: list[str] = []
    new_tokens: list[str] = []
    i = 0
    while i < len(tokens):
        for key, target in _THESAURUS.get(stems[i], ()):
            if tuple(stems[i:i + len(key)]) == key:
                new_words += target
                new_tokens += target
                i += len(key)
                break
        else:
            new_words.append(words[i])
            new_tokens.append(tokens[i])
            i += 1
    return new_words, new_tokens


def analyse(words: Sequence[str], tokens: Sequence[str], keep: Collection[str] = ()
            ) -> tuple[list[str], list[str]]:
    """The content syllables of a text and the bigrams of adjacent ones (never across a
    dropped filler word). `keep`: bigrams that save an unmarked filler word."""
    words, tokens = _substitute(words, tokens)
    content: list[str | None] = []
    for i, (word, token) in enumerate(zip(words, tokens, strict=True)):
        if word != token:  # written with marks: judge the word as written
            stop = word in _STOP_WRITTEN
        else:
            stop = token in _STOP_FOLDED and not (
                keep and ((i and f"{tokens[i - 1]} {token}" in keep)
                          or (i + 1 < len(tokens) and f"{token} {tokens[i + 1]}" in keep)))
        content.append(None if stop else _stem(token) if token.isascii() else token)
    unigrams = [t for t in content if t is not None]
    bigrams = [f"{a} {b}" for a, b in zip(content, content[1:], strict=False)
               if a is not None and b is not None]
    return unigrams, bigrams


_THESAURUS = _thesaurus()


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


Postings = dict[str, list[tuple[int, float]]]


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
    """BM25F over the entries' questions and answers; see the module docstring."""

    def __init__(self, entries: Sequence[Entry], normalizer: Normalizer) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self._normalizer = normalizer
        questions = [self._terms(e.questions) for e in self.entries]
        answers = [self._terms((e.answer,)) for e in self.entries]
        english = [self._terms((e.answer_en or "",)) for e in self.entries]
        self._postings, self._idf = _bm25f(
            [[(q, _QUESTION_WEIGHT), (a, _ANSWER_WEIGHT), (en, _ANSWER_WEIGHT)]
             for q, a, en in zip(questions, answers, english, strict=True)])
        self._entry_words = [frozenset(q) | frozenset(a) | frozenset(en)
                             for q, a, en in zip(questions, answers, english, strict=True)]
        self._bigrams = frozenset(t for t in self._idf if " " in t)
        # typos are bent only to words customers use (an answer's `message` is no `massage`)
        vocabulary = {t for q in questions for t in q if " " not in t}
        self._unknown_idf = math.log(1 + (len(self.entries) + 0.5) / 0.5)
        self._typos = TypoCorrector(vocabulary, COMMON_SYLLABLES | _STOP_FOLDED)

    def _terms(self, texts: Sequence[str]) -> list[str]:
        terms: list[str] = []
        for text in texts:
            if text:
                normalized = self._normalizer(text)
                unigrams, bigrams = analyse(normalized.words, normalized.tokens)
                terms += unigrams + bigrams
        return terms

    def query_terms(self, text: Normalized) -> tuple[list[str], list[str]]:
        """The content syllables of a message and their bigrams, typos bent to the
        knowledge base's words, a letter's salutation and sign-off left out."""
        if "\n" in text.original:
            body = letter_body(text.original)
            if body != text.original:
                text = self._normalizer(body)
        words, tokens = list(text.words), list(text.tokens)
        fixed = self._typos.correct(tokens)
        if fixed is not None:
            words = [f if f != t else w for w, t, f in zip(words, tokens, fixed, strict=True)]
            tokens = list(fixed)
        return analyse(words, tokens, self._bigrams)

    def search(self, text: Normalized, channel: str | None = None, limit: int = 3) -> list[Hit]:
        """The best entries for a message, best first; entries limited to other channels
        are left out (and are no rivals) when `channel` is given."""
        unigrams, bigrams = self.query_terms(text)
        scores: dict[int, float] = {}
        postings = self._postings
        for term in {*unigrams, *bigrams}:
            for index, value in postings.get(term, ()):
                scores[index] = scores.get(index, 0.0) + value
        if channel is not None:
            scores = {i: s for i, s in scores.items()
                      if not self.entries[i].channels or channel in self.entries[i].channels}
        if not scores:
            return []
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:max(limit, 2)]
        unique = set(unigrams)
        mass = sum(self._idf.get(t, self._unknown_idf) for t in unique) or 1.0
        hits = []
        for position, (index, score) in enumerate(ranked[:limit]):
            rival = (ranked[1][1] if len(ranked) > 1 else 0.0) if position == 0 else ranked[0][1]
            words = self._entry_words[index]
            covered = sum(self._idf[t] for t in unique if t in words) / mass
            hits.append(Hit(self.entries[index], score,
                            _confidence(covered, (score - rival) / score)))
        return hits


def _confidence(coverage: float, margin: float) -> float:
    """Probability that the entry answers the question; margin is negative for an entry
    that is not the best, so only the best can be confident."""
    z = _CONF_BIAS + _CONF_COVERAGE * coverage + _CONF_MARGIN * margin
    return round(1.0 / (1.0 + math.exp(-z)), 4)


def parse_entries(raw: object) -> list[Entry]:
    """Entries from the knowledge file's parsed YAML; a ValueError names the entry and the
    problem, so a manager's mistake is found at start, not when a customer asks."""
    if not isinstance(raw, list):
        raise ValueError("the knowledge file must be a list of entries")
    entries: list[Entry] = []
    seen: set[str] = set()
    for position, item in enumerate(raw, 1):
        where = f"entry {position}"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: must be a mapping with id, questions and answer")
        entry_id = item.get("id")
        if not isinstance(entry_id, str) or not entry_id.strip():
            raise ValueError(f"{where}: needs an id")
        where = f"entry {entry_id!r}"
        if entry_id in seen:
            raise ValueError(f"{where}: the id is used twice")
        seen.add(entry_id)
        unknown = set(item) - {"id", "questions", "answer", "answer_en", "channels", "tags"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        questions = _strings(item.get("questions"), where, "questions")
        if not questions:
            raise ValueError(f"{where}: needs at least one question")
        answer, answer_en = item.get("answer"), item.get("answer_en")
        if not isinstance(answer, str) or not answer.strip():
            raise ValueError(f"{where}: needs an answer")
        if answer_en is not None and (not isinstance(answer_en, str) or not answer_en.strip()):
            raise ValueError(f"{where}: answer_en must be text")
        entries.append(Entry(entry_id, questions, answer.strip(),
                             answer_en.strip() if answer_en else None,
                             _strings(item.get("channels"), where, "channels"),
                             _strings(item.get("tags"), where, "tags")))
    return entries


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: {key} must be a list of non-empty texts")
    return tuple(v.strip() for v in value)
