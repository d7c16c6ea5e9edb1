"""Vietnamese text in the forms the rules match against.

Customers write `giao hàng chậm`, `giao hang cham`, `giao hàg chậmmmm` and `gh chậm` for the
same thing, so rules match a *folded* form: NFC, lower case, diacritics removed, `đ`→`d`
(NFD does not decompose `đ`), letters repeated three times or more squeezed to one, and
teencode/abbreviations (`ko`, `k`, `hok` → `không`; `dh` → `đơn hàng`) expanded from a table
in the configuration.

Folding alone is dangerous for single syllables: `bẩn` (dirty), `bạn` (friend), `bán` (sell)
and `bận` (busy) all fold to `ban`; `hỏng` (broken) and `hồng` (pink) to `hong`; `ví`
(wallet) and `vì` (because) to `vi`. So each word is also kept as written (`words`): a
one-word keyword must match a word exactly as written, or a word the customer wrote
without any diacritics (then it is as ambiguous as the customer made it). Phrases of
several words match the folded form, where such collisions are rare.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass


def _build_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord("đ"): "d", ord("Đ"): "d"}
    for code in range(0x00C0, 0x1EFF + 1):
        char = chr(code)
        decomposed = unicodedata.normalize("NFD", char)
        base = decomposed[0]
        if base != char and base.isascii() and base.isalpha():
            table[code] = base.lower()
    for code in range(0x0300, 0x036F + 1):  # stray combining marks (NFD input)
        table[code] = None
    return table


_FOLD = _build_fold_table()
_WORD = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_RUN = re.compile(r"([a-z])\1{2,}")


def fold(text: str) -> str:
    """Lower case without diacritics: `Đơn hàng CHẬM` → `don hang cham`."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text.lower().translate(_FOLD)


def _squeeze(word: str, folded: str) -> tuple[str, str]:
    """`chậmmmm` → `chậm`, `quáaaa` → `quá`: runs of three or more of one letter (ignoring
    marks) become one, keeping the first, which is the one that carries the marks."""
    drop: set[int] = set()
    for run in _RUN.finditer(folded):
        drop.update(range(run.start() + 1, run.end()))
    keep = [i for i in range(len(folded)) if i not in drop]
    return "".join(word[i] for i in keep), "".join(folded[i] for i in keep)


def fold_tokens(text: str) -> list[str]:
    """Folded words of a text, without teencode expansion."""
    result = []
    for word in _WORD.findall(fold(text)):
        if _RUN.search(word):
            word = _squeeze(word, word)[1]
        result.append(word)
    return result


@dataclass(frozen=True, slots=True)
class Normalized:
    """A text as the rules see it.

    `words` are the words as written (lower case, NFC, teencode expanded), `tokens` the same
    words folded, and `padded` the tokens as ` tok tok tok `: padding with spaces lets
    phrase matching demand whole words with a plain substring automaton.
    """

    original: str
    words: tuple[str, ...]
    tokens: tuple[str, ...]
    padded: str
    folded: str = ""  # the whole text folded, punctuation kept (for clause-level checks)


class Normalizer:
    def __init__(self, teencode: Mapping[str, str]) -> None:
        self._teencode: dict[str, tuple[tuple[str, str], ...]] = {}
        for short, long in teencode.items():
            key = _WORD.findall(unicodedata.normalize("NFC", short).lower())
            if len(key) != 1:
                raise ValueError(f"teencode key {short!r} must be one word")
            expansion = tuple(self._pairs(long))
            if not expansion:
                raise ValueError(f"teencode {short!r} expands to nothing")
            self._teencode[key[0]] = expansion

    @staticmethod
    def _split(text: str) -> tuple[list[str], list[str], str]:
        """The words as written and folded, and the folded text. The whole text is folded
        once; folding maps letter to letter, so both splits line up unless stray combining
        marks were dropped, in which case each word is folded on its own."""
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        lowered = text.lower()
        words = _WORD.findall(lowered)
        # NFD then dropping non-ASCII is the C-speed fold (3x the translate table); a word
        # made of other scripts vanishes from it, and then each word is folded on its own.
        folded_text = unicodedata.normalize("NFD", lowered.replace("đ", "d")).encode(
            "ascii", "ignore").decode("ascii")
        folded = _ASCII_WORD.findall(folded_text)
        if len(folded) != len(words):
            folded = [w.translate(_FOLD) for w in words]
        if _RUN.search(folded_text):
            for i, token in enumerate(folded):
                if _RUN.search(token):
                    words[i], folded[i] = _squeeze(words[i], token)
        return words, folded, folded_text

    def _pairs(self, text: str) -> list[tuple[str, str]]:
        words, folded, _ = self._split(text)
        return list(zip(words, folded, strict=True))

    def __call__(self, text: str) -> Normalized:
        words, tokens, folded_text = self._split(text)
        teencode = self._teencode
        if not teencode.keys().isdisjoint(words):
            expanded_words: list[str] = []
            expanded_tokens: list[str] = []
            for word, folded in zip(words, tokens, strict=True):
                expansion = teencode.get(word)
                if expansion is None:
                    expanded_words.append(word)
                    expanded_tokens.append(folded)
                else:
                    for expanded_word, expanded_token in expansion:
                        expanded_words.append(expanded_word)
                        expanded_tokens.append(expanded_token)
            words, tokens = expanded_words, expanded_tokens
        return Normalized(text, tuple(words), tuple(tokens), " " + " ".join(tokens) + " ",
                          folded_text)

    def phrase(self, phrase: str) -> Normalized:
        """A configured keyword in the same form as message text (teencode expanded too)."""
        return self(phrase)
