"""The bot's knowledge base as managers edit it: a YAML list of entries in
`templates/knowledge/marketplace.yaml` (or the file `bot.knowledge` names), each
`{id, questions: [...], answer, answer_en?, channels?, tags?}`, Vietnamese first.

The file is checked whole when it loads: an error names the entry and what is wrong, and the
server refuses to start on a bad file rather than answer customers from half of it. While
running, `KnowledgeFile.current()` looks at the file's modification time every few seconds
and rebuilds the index when it changed; a bad edit is logged and the last good knowledge
stays in use (a manager's typo must not silence the bot)."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from router import Normalizer
from router.knowledge import Entry, KnowledgeBase
from switchboard.settings import BOT_CHANNELS, Settings

log = logging.getLogger("switchboard.bot")
DEFAULT = Path(__file__).resolve().parents[2] / "templates" / "knowledge" / "marketplace.yaml"
_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
MAX_TEXT = 2000  # an answer is a chat message: Zalo and Messenger cut long ones


class KnowledgeError(ValueError):
    """The knowledge file cannot be used; the message names the file, the entry and why."""


def knowledge_path(settings: Settings) -> Path:
    if settings.bot.knowledge:
        return Path(settings.bot.knowledge)
    if settings.templates_dir:
        return Path(settings.templates_dir) / "knowledge" / "marketplace.yaml"
    return DEFAULT


def parse(path: Path) -> list[Entry]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot read it ({exc})") from exc
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, list):
        raise KnowledgeError(f"{path}: expected a list of entries")
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, item in enumerate(raw, 1):
        entry = _entry(path, number, item)
        if entry.id in seen:
            raise KnowledgeError(f"{path}: entry {number} ({entry.id}): the id is used twice")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def _entry(path: Path, number: int, item: Any) -> Entry:
    where = f"{path}: entry {number}"
    if not isinstance(item, dict):
        raise KnowledgeError(f"{where}: expected a mapping with id, questions and answer")
    ident = str(item.get("id") or "")
    if ident:
        where += f" ({ident})"
    unknown = sorted(set(item) - {"id", "questions", "answer", "answer_en", "channels", "tags"})
    if unknown:
        raise KnowledgeError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    if not _ID.match(ident):
        raise KnowledgeError(f"{where}: id must be lower-case letters, digits and _")
    questions = _texts(where, "questions", item.get("questions"))
    if not questions:
        raise KnowledgeError(f"{where}: questions: give at least one example phrasing")
    answer = _text(where, "answer", item.get("answer"))
    if not answer:
        raise KnowledgeError(f"{where}: answer is missing")
    channels = _texts(where, "channels", item.get("channels"))
    wrong = sorted(set(channels) - set(BOT_CHANNELS))
    if wrong:
        raise KnowledgeError(f"{where}: unknown channel(s) {', '.join(wrong)}")
    return Entry(ident, questions, answer, _text(where, "answer_en", item.get("answer_en")),
                 channels, _texts(where, "tags", item.get("tags")))


def _text(where: str, name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise KnowledgeError(f"{where}: {name} must be text")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise KnowledgeError(f"{where}: {name} is {len(value)} characters; at most {MAX_TEXT}")
    return value or None


def _texts(where: str, name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeError(f"{where}: {name} must be a list of non-empty texts")
    return tuple(v.strip() for v in value)


class KnowledgeFile:
    """The knowledge base of one file, rebuilt when the file changes."""

    def __init__(self, path: Path, normalizer: Normalizer, recheck_seconds: float = 2.0
                 ) -> None:
        self.path, self.normalizer, self._recheck = path, normalizer, recheck_seconds
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._base = KnowledgeBase(parse(path), normalizer)  # a bad file stops the start
        self._checked = time.monotonic()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> KnowledgeBase:
        now = time.monotonic()
        if now - self._checked < self._recheck:
            return self._base
        with self._lock:
            self._checked = now
            stamp = self._stat()
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._base = KnowledgeBase(parse(self.path), self.normalizer)
                    log.info("bot: knowledge reloaded from %s (%d entries)", self.path,
                             len(self._base.entries))
                except KnowledgeError as exc:
                    log.error("bot: %s; still answering from the previous version", exc)
        return self._base


def load(settings: Settings, normalizer: Normalizer) -> KnowledgeFile | None:
    """None when the bot is off; KnowledgeError when the file is bad."""
    if not settings.bot.enabled:
        return None
    return KnowledgeFile(knowledge_path(settings), normalizer)
