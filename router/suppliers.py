"""Which supplier a message names: exact and typo-tolerant matching against the catalog.

Names and aliases are folded like message text and matched as whole words with one
Aho-Corasick automaton, so the cost does not grow with the catalog. Typos (`Muong Thah`,
`Huong Thoa`) are caught by a deletion-neighbourhood index of the *distinctive* words of
each name (SymSpell's idea: two words within one edit share a one-deletion variant), then
confirmed word by word with rapidfuzz's OSA distance. Words every shop has (`nhà hàng`,
`spa`, `hoàng gia`) never carry a fuzzy match alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
from rapidfuzz.distance import OSA

from router._common_words import COMMON_SYLLABLES, GENERIC_BUSINESS_WORDS
from router.text import Normalized, Normalizer


@dataclass(frozen=True, slots=True)
class SupplierEntry:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SupplierMatch:
    supplier_id: str
    form: str
    score: float
    exact: bool
    position: int


@dataclass(frozen=True, slots=True)
class _Form:
    supplier_id: str
    tokens: tuple[str, ...]
    distinctive: tuple[str, ...]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _is_distinctive(token: str) -> bool:
    return (len(token) >= 4 and token not in COMMON_SYLLABLES
            and token not in GENERIC_BUSINESS_WORDS) or (len(token) >= 3 and token.isdigit())


class SupplierCatalog:
    """`known_words` are ordinary words (the rules' vocabulary): a message word that is one
    of them is what it says, not a misspelt supplier name."""

    def __init__(self, entries: Iterable[SupplierEntry], normalizer: Normalizer,
                 known_words: Iterable[str] = ()) -> None:
        self._known = frozenset(known_words) | COMMON_SYLLABLES
        self._contacts: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._forms: list[_Form] = []
        self._automaton = ahocorasick.Automaton()
        # distinctive word → (form, position of the word in the form)
        self._postings: dict[str, list[tuple[int, int]]] = {}
        # one-deletion variant → distinctive words of five letters or more it comes from
        self._deletions: dict[str, set[str]] = {}
        keys: dict[str, list[int]] = {}
        for entry in entries:
            self._names[entry.id] = entry.name
            for contact in entry.emails + entry.phones:
                self._contacts[contact] = entry.id
            for tokens in self._forms_of(entry, normalizer):
                form_id = len(self._forms)
                distinctive = tuple(t for t in tokens if _is_distinctive(t))
                self._forms.append(_Form(entry.id, tokens, distinctive))
                keys.setdefault(" " + " ".join(tokens) + " ", []).append(form_id)
                for position, token in enumerate(tokens):
                    if token in distinctive:
                        self._postings.setdefault(token, []).append((form_id, position))
        for word in self._postings:
            if len(word) >= 5:
                for variant in _deletes(word) | {word}:
                    self._deletions.setdefault(variant, set()).add(word)
        for key, form_ids in keys.items():
            self._automaton.add_word(key, tuple(form_ids))
        self.size = len(self._names)
        if keys:
            self._automaton.make_automaton()
        self._near = lru_cache(maxsize=65536)(self._near_uncached)

    @staticmethod
    def _forms_of(entry: SupplierEntry, normalizer: Normalizer) -> list[tuple[str, ...]]:
        """The name, each alias, and each without its leading business word (`Spa X` → `X`),
        kept only when specific enough to name one shop rather than a kind of shop."""
        forms: dict[tuple[str, ...], None] = {}
        for raw in (entry.name, *entry.aliases):
            tokens = normalizer(raw).tokens
            variants = [tokens]
            core = tokens
            while core and core[0] in GENERIC_BUSINESS_WORDS:
                core = core[1:]
            if core != tokens:
                variants.append(core)
            for variant in variants:
                if _specific_enough(variant):
                    forms[variant] = None
        return list(forms)

    def _near_uncached(self, token: str) -> tuple[str, ...]:
        """Distinctive catalog words one edit (OSA) from this message word."""
        return _near_words(token, self._deletions)

    def name_of(self, supplier_id: str) -> str | None:
        return self._names.get(supplier_id)

    def by_contact(self, value: str) -> str | None:
        """The supplier whose registered email or E.164 phone this is."""
        return self._contacts.get(value)

    def __contains__(self, supplier_id: object) -> bool:
        return supplier_id in self._names

    def find(self, text: Normalized) -> list[SupplierMatch]:
        """Suppliers named in the text, best first (exact before fuzzy, longer before
        shorter, earlier before later)."""
        best: dict[str, SupplierMatch] = {}
        if self._forms:
            for end, form_ids in self._automaton.iter(text.padded):
                for form_id in form_ids:
                    form = self._forms[form_id]
                    key_len = len(form.tokens)
                    position = text.padded.count(" ", 0, end) - key_len
                    match = SupplierMatch(form.supplier_id, " ".join(form.tokens),
                                          100.0 + key_len, True, position)
                    _keep_best(best, match)
            for match in self._fuzzy(text):
                _keep_best(best, match)
        return sorted(best.values(), key=lambda m: (-m.score, m.position))

    def _fuzzy(self, text: Normalized) -> list[SupplierMatch]:
        """Names with a typo: only a message word that is *not* a catalog word but is one
        edit away from a distinctive one can start a fuzzy match, so most messages cost one
        dictionary lookup per long word and nothing more."""
        tokens = text.tokens
        found: list[SupplierMatch] = []
        for position, token in enumerate(tokens):
            if len(token) < 5 or token in self._postings or token in self._known:
                continue
            for word in self._near(token):
                for form_id, offset in self._postings[word]:
                    form = self._forms[form_id]
                    if len(form.tokens) < 2:
                        continue  # one word with a typo is too often another word
                    edits = _align_at(form.tokens, tokens, position - offset)
                    if edits is not None:
                        found.append(SupplierMatch(form.supplier_id, " ".join(form.tokens),
                                                   90.0 + len(form.tokens) - 5 * edits, False,
                                                   position - offset))
        return found


def _near_words(token: str, deletions: dict[str, set[str]]) -> tuple[str, ...]:
    near: set[str] = set()
    for variant in _deletes(token) | {token}:
        near.update(deletions.get(variant, ()))
    return tuple(w for w in near if OSA.distance(token, w, score_cutoff=1) <= 1)


def _specific_enough(tokens: tuple[str, ...]) -> bool:
    if not tokens:
        return False
    if len(tokens) >= 2:
        return any(t not in GENERIC_BUSINESS_WORDS for t in tokens)
    return _is_distinctive(tokens[0])


def _keep_best(best: dict[str, SupplierMatch], match: SupplierMatch) -> None:
    current = best.get(match.supplier_id)
    if current is None or (match.score, -match.position) > (current.score, -current.position):
        best[match.supplier_id] = match


def _align_at(form: tuple[str, ...], tokens: tuple[str, ...], start: int) -> int | None:
    """Edits needed for the form to sit at `start` among the message words: each word must
    be equal, or one edit away when it is long and distinctive. None if it does not fit."""
    if start < 0 or start + len(form) > len(tokens):
        return None
    edits = 0
    for offset, want in enumerate(form):
        got = tokens[start + offset]
        if got == want:
            continue
        if len(want) >= 5 and _is_distinctive(want) and OSA.distance(
            got, want, score_cutoff=1
        ) <= 1:
            edits += 1
            continue
        return None
    return edits
