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
    def __init__(self, entries: Iterable[SupplierEntry], normalizer: Normalizer) -> None:
        self._contacts: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._forms: list[_Form] = []
        self._automaton = ahocorasick.Automaton()
        self._token_index: dict[str, set[int]] = {}
        self._delete_index: dict[str, set[int]] = {}
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
                for token in distinctive:
                    self._token_index.setdefault(token, set()).add(form_id)
                    if len(token) >= 5:
                        for variant in _deletes(token):
                            self._delete_index.setdefault(variant, set()).add(form_id)
        for key, form_ids in keys.items():
            self._automaton.add_word(key, tuple(form_ids))
        self.size = len(self._names)
        if keys:
            self._automaton.make_automaton()

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
        tokens = text.tokens
        candidates: set[int] = set()
        for token in tokens:
            if len(token) < 4 or token in COMMON_SYLLABLES:
                continue
            candidates.update(self._token_index.get(token, ()))
            if len(token) >= 5:
                for variant in _deletes(token) | {token}:
                    candidates.update(self._delete_index.get(variant, ()))
        found: list[SupplierMatch] = []
        for form_id in candidates:
            form = self._forms[form_id]
            aligned = _align(form.tokens, tokens)
            if aligned is None:
                continue
            edits, position = aligned
            if edits == 0:
                continue  # an exact hit is already found by the automaton
            found.append(SupplierMatch(form.supplier_id, " ".join(form.tokens),
                                       90.0 + len(form.tokens) - 5 * edits, False, position))
        return found


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


def _align(form: tuple[str, ...], tokens: tuple[str, ...]) -> tuple[int, int] | None:
    """Find the form as consecutive message words, allowing one edit in each long word.

    Returns (total edits, token position) for the best placement, or None.
    """
    width = len(form)
    best: tuple[int, int] | None = None
    for start in range(len(tokens) - width + 1):
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
            edits = -1
            break
        if edits >= 0 and (best is None or edits < best[0]):
            best = (edits, start)
    return best
