"""The rules engine: weighted, explainable classification of a message.

Rules are data (from `config.yaml`): conditions on words and phrases, regular expressions,
the channel, who is writing, and the entities found; each rule that fires adds its weight to
a category (and topic). Several weak signals can therefore beat one strong one, and the
answer always names the rules that fired. All phrases of all rules go into one
Aho-Corasick automaton over the folded text, and all one-word keywords into two hash
tables (as written, and folded for words typed without diacritics; see `router.text`), so a
message is scanned once however many rules there are; a rule is only evaluated when one of
its words was seen (or when it has no words at all).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import ahocorasick

from router._common_words import COMMON_SYLLABLES
from router.text import Normalized, Normalizer
from router.typos import TypoCorrector

CATEGORIES = ("product", "supplier", "service", "supplier_platform", "inquiry")
TOPICS = ("delivery", "payment", "account", "other")
PRIORITIES = ("low", "normal", "high", "urgent")
ENTITY_KINDS = ("order_code", "phone", "email", "supplier", "known_order", "question")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule as configured. Words in `keywords` fire the rule when any is present;
    `all_of` lists groups that must each be present; `unless` words veto it."""

    name: str
    category: str | None = None
    topic: str | None = None
    weight: float = 1.0
    keywords: tuple[str, ...] = ()
    all_of: tuple[tuple[str, ...], ...] = ()
    unless: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    sender: str | None = None
    entities: tuple[str, ...] = ()
    priority: str | None = None
    tags: tuple[str, ...] = ()
    department: str | None = None

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"rule {self.name}: unknown category {self.category!r}")
        if self.topic is not None and self.topic not in TOPICS:
            raise ValueError(f"rule {self.name}: unknown topic {self.topic!r}")
        if self.topic is not None and self.category != "service":
            raise ValueError(f"rule {self.name}: a topic needs category 'service'")
        if self.priority is not None and self.priority not in PRIORITIES:
            raise ValueError(f"rule {self.name}: unknown priority {self.priority!r}")
        for kind in self.entities:
            if kind not in ENTITY_KINDS:
                raise ValueError(f"rule {self.name}: unknown entity {kind!r}")
        if self.sender not in (None, "customer", "supplier"):
            raise ValueError(f"rule {self.name}: sender must be customer or supplier")
        if not (self.category or self.priority or self.tags or self.department):
            raise ValueError(f"rule {self.name}: has no action (category, priority, tags or "
                             "department)")
        if not (self.keywords or self.all_of or self.regex or self.channels or self.sender
                or self.entities):
            raise ValueError(f"rule {self.name}: has no condition and would always fire")


@dataclass(frozen=True, slots=True)
class Signals:
    """Facts about a message beyond its words, gathered by the caller."""

    channel: str
    sender_kind: str = "customer"
    entities: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Evaluation:
    scores: dict[str, float]
    topic_scores: dict[str, float]
    fired: tuple[str, ...]
    priority: str | None
    tags: tuple[str, ...]
    hits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # category (or None for any) → (weight, department, rule) of the strongest rule that
    # names a department for it
    departments: dict[str | None, tuple[float, str, str]] = field(default_factory=dict)


_ANY, _ALL, _UNLESS = 0, 1, 2


def _bare_ok(word: str, token: str) -> bool:
    """Whether a one-word keyword may match a word typed without diacritics.

    `dở` (bad) must not fire on `do` (because), nor `bẩn` (dirty) on `ban` (you): a keyword
    written with diacritics matches bare text only when its folded form is long and rare
    enough to mean one thing; its phrases (`bị bẩn`, `dở tệ`) still match folded text.
    """
    return word == token or (len(token) >= 6 and token not in COMMON_SYLLABLES)


@dataclass(slots=True)
class _Compiled:
    rule: Rule
    regex: tuple[re.Pattern[str], ...]
    keyword_count: int
    group_count: int
    conditional: bool  # has channel, sender or entity conditions
    priority_rank: int


class RuleSet:
    def __init__(self, rules: Sequence[Rule], normalizer: Normalizer) -> None:
        names = [r.name for r in rules]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"duplicate rule names: {', '.join(sorted(duplicates))}")
        self._rules: list[_Compiled] = []
        self._always: list[int] = []
        self._by_entity: dict[str, list[int]] = {}
        self._by_sender: dict[str, list[int]] = {}
        automaton = ahocorasick.Automaton()
        postings: dict[str, list[tuple[int, int, int, str]]] = {}
        self._as_written: dict[str, list[tuple[int, int, int, str]]] = {}
        self._bare: dict[str, list[tuple[int, int, int, str]]] = {}
        for index, rule in enumerate(rules):
            patterns = tuple(re.compile(p, re.IGNORECASE) for p in rule.regex)
            self._rules.append(_Compiled(
                rule, patterns, len(rule.keywords), len(rule.all_of),
                bool(rule.channels or rule.entities),
                PRIORITIES.index(rule.priority) if rule.priority else -1))
            slots: list[tuple[str, int, int]] = [(k, _ANY, 0) for k in rule.keywords]
            slots += [(k, _ALL, g) for g, group in enumerate(rule.all_of) for k in group]
            slots += [(k, _UNLESS, 0) for k in rule.unless]
            for word, kind, group in slots:
                key = normalizer.phrase(word)
                if not key.tokens:
                    raise ValueError(f"rule {rule.name}: empty keyword {word!r}")
                label = " ".join(key.tokens)
                posting = (index, kind, group, label)
                if len(key.tokens) == 1:
                    self._as_written.setdefault(key.words[0], []).append(posting)
                    if _bare_ok(key.words[0], key.tokens[0]):
                        self._bare.setdefault(key.tokens[0], []).append(posting)
                else:
                    postings.setdefault(key.padded, []).append(posting)
            if not rule.keywords and not rule.all_of:
                # rules without words are looked at only when what they need is there
                if rule.entities:
                    self._by_entity.setdefault(rule.entities[0], []).append(index)
                elif rule.sender and not rule.regex:
                    self._by_sender.setdefault(rule.sender, []).append(index)
                else:
                    self._always.append(index)
        for padded, entries in postings.items():
            automaton.add_word(padded, tuple(entries))
        if postings:
            automaton.make_automaton()
        self._automaton = automaton if postings else None
        self.rules = tuple(rules)
        self.vocabulary: frozenset[str] = frozenset(
            token for key in list(postings) + list(self._bare) for token in key.split())
        self._typos = TypoCorrector(self.vocabulary, COMMON_SYLLABLES)

    def evaluate(self, text: Normalized, raw: str, signals: Signals) -> Evaluation:
        found: list[tuple[int, int, int, str]] = []
        if self._automaton is not None:
            for _end, postings in self._automaton.iter(text.padded):
                found.extend(postings)
        as_written, bare = self._as_written, self._bare
        seen = as_written.keys() & text.words
        for word in seen:
            found.extend(as_written[word])
        # a word typed without diacritics is as ambiguous as the customer made it
        for word in bare.keys() & text.words:
            if word not in seen and word.isascii():
                found.extend(bare[word])
        corrected = self._typos.correct(text.tokens)
        if corrected is not None:  # read once more with typos fixed; keep what is new
            known = set(found)
            extra: list[tuple[int, int, int, str]] = []
            if self._automaton is not None:
                for _end, postings in self._automaton.iter(" " + " ".join(corrected) + " "):
                    extra.extend(postings)
            for before, after in zip(text.tokens, corrected, strict=True):
                if before != after:
                    extra.extend(bare.get(after, ()))
            found.extend(p for p in extra if p not in known)
        any_hits: dict[int, list[str]] = {}
        groups: dict[int, set[int]] = {}
        vetoed: set[int] = set()
        for index, kind, group, label in found:
            if kind == _ANY:
                labels = any_hits.get(index)
                if labels is None:
                    any_hits[index] = [label]
                elif label not in labels:
                    labels.append(label)
            elif kind == _ALL:
                groups.setdefault(index, set()).add(group)
            else:
                vetoed.add(index)
        candidates = set(any_hits)
        candidates.update(groups)
        candidates.update(self._always)
        candidates.update(self._by_sender.get(signals.sender_kind, ()))
        for entity in signals.entities:
            candidates.update(self._by_entity.get(entity, ()))
        candidates -= vetoed
        scores: dict[str, float] = {}
        topic_scores: dict[str, float] = {}
        fired: list[str] = []
        hits: dict[str, tuple[str, ...]] = {}
        tags: list[str] = []
        departments: dict[str | None, tuple[float, str, str]] = {}
        priority_rank = -1
        rules = self._rules
        for index in sorted(candidates):
            compiled = rules[index]
            if compiled.keyword_count and index not in any_hits:
                continue
            if compiled.group_count and len(groups.get(index, ())) < compiled.group_count:
                continue
            rule = compiled.rule
            if rule.sender and rule.sender != signals.sender_kind:
                continue
            if (compiled.conditional or compiled.regex) and not self._conditions_hold(
                    compiled, raw, signals):
                continue
            labels = any_hits.get(index)
            weight = rule.weight
            if labels:
                weight *= 1.0 + 0.25 * min(len(labels) - 1, 2)
            fired.append(rule.name)
            hits[rule.name] = tuple(labels) if labels else ()
            if rule.category:
                scores[rule.category] = scores.get(rule.category, 0.0) + weight
                if rule.topic:
                    topic_scores[rule.topic] = topic_scores.get(rule.topic, 0.0) + weight
            if rule.tags:
                tags.extend(t for t in rule.tags if t not in tags)
            if rule.department:
                current = departments.get(rule.category)
                if current is None or weight > current[0]:
                    departments[rule.category] = (weight, rule.department, rule.name)
            if compiled.priority_rank > priority_rank:
                priority_rank = compiled.priority_rank
        priority = PRIORITIES[priority_rank] if priority_rank >= 0 else None
        return Evaluation(scores, topic_scores, tuple(fired), priority, tuple(tags), hits,
                          departments)

    @staticmethod
    def _conditions_hold(compiled: _Compiled, raw: str, signals: Signals) -> bool:
        rule = compiled.rule
        if rule.channels and signals.channel not in rule.channels:
            return False
        if rule.entities and not all(e in signals.entities for e in rule.entities):
            return False
        return all(p.search(raw) for p in compiled.regex)
