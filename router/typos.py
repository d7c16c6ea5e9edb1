"""Typo tolerance for rule phrases: `giao hnag chậm`, `delivary`, `refnud`.

A message word that is not a word we know, but is one edit (rapidfuzz's OSA distance: an
insertion, deletion, substitution or swap of neighbours) from exactly one word the rules use,
is read as that word. Words of three letters or less are never bent (Vietnamese syllables
that short differ from each other by one letter all the time), nor is any known word:
`hồng` typed as `hong` stays `hong`. Candidates come from a deletion index (SymSpell's idea),
so a message costs a few dictionary lookups per unknown word, cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz.distance import OSA


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class TypoCorrector:
    def __init__(self, vocabulary: Iterable[str], known: Iterable[str]) -> None:
        targets = frozenset(w for w in vocabulary if len(w) >= 4 and w.isalpha())
        self._known = frozenset(known) | frozenset(vocabulary)
        self._index: dict[str, set[str]] = {}
        for word in targets:
            for variant in _deletes(word) | {word}:
                self._index.setdefault(variant, set()).add(word)
        self._fix = lru_cache(maxsize=65536)(self._fix_uncached)

    def _fix_uncached(self, token: str) -> str | None:
        near: set[str] = set()
        for variant in _deletes(token) | {token}:
            near.update(self._index.get(variant, ()))
        close = [w for w in near if OSA.distance(token, w, score_cutoff=1) <= 1]
        return close[0] if len(close) == 1 else None

    def correct(self, tokens: Sequence[str]) -> tuple[str, ...] | None:
        """The tokens with typos fixed, or None when nothing needed fixing."""
        fixes = {}
        for token in set(tokens).difference(self._known):
            if len(token) >= 4 and token.isalpha():
                replacement = self._fix(token)
                if replacement is not None:
                    fixes[token] = replacement
        if not fixes:
            return None
        return tuple(fixes.get(t, t) for t in tokens)
