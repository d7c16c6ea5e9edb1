"""Saved replies: answers managers write once and agents send with a short code, filled in
for the ticket at hand ("Dạ chào chị Lan, đơn DH25220868 ...").

**Where they live.** `templates/replies/*.yaml` (or `<templates_dir>/replies/` when the
config sets `templates_dir`). Each file holds a YAML list of replies, grouped by theme
(`delivery.yaml`, `refunds.yaml`, ...) — one file per reply works too, since a file may hold
a single reply instead of a list. Themes keep related wording side by side for the manager
who edits them, and each file stays short enough to review in one screen. A reply is::

    - code: refund_time          # short, lower case: what agents type (/reply refund_time)
      title: Thời gian hoàn tiền  # what Slack's menu shows (at most 75 characters)
      vi: |                       # Jinja2; Vietnamese first, always both languages
        Dạ chào {{ customer.salutation }}, ...
      en: |
        Dear {{ customer.salutation }}, ...

**Variables.** `customer.name`, `customer.salutation` ("anh Minh", "chị Lan", "quý khách";
"Mr Minh", "Ms Lan", "valued customer": see `salutation`), `ticket.ref`, `order.code`,
`order.product`, `supplier.name`, `deadline` (the ticket's resolution due time,
`dd/mm HH:MM` in the configured zone) and `agent.name`; the filter `capitalize_first`
starts a sentence with one ("{{ customer.salutation | capitalize_first }} vui lòng ...").

**Nothing half-filled.** A variable the text prints but the ticket lacks (a ticket with no
order, a customer with no name) refuses the whole reply with `MissingVariable` naming it;
nothing is sent. A text makes a variable optional by testing it, `{% if order %}...{% endif
%}` (missing values are false in tests, and only in tests). Templates run in Jinja's
sandbox, so a saved reply can print values and nothing else.

**Loading.** Everything is checked when the library is built (the service refuses to start
on a bad file): YAML, the four fields, the code's form, duplicate codes (across files), the
templates' syntax, and that they name only the variables above, by rendering each text
once with every variable present. The folder is looked at again on every use (file names,
sizes and modification times); a changed folder is reloaded, and a reload that fails keeps
the replies that worked, logs the file and the problem, and shows it as `problem`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import yaml
from jinja2 import StrictUndefined, Template, TemplateError, UndefinedError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from switchboard.outbox.salutation import salutation
from switchboard.outbox.templates import DEFAULT_DIR

log = logging.getLogger("switchboard.replies")
LANGUAGES = ("vi", "en")
VARIABLES: Mapping[str, tuple[str, ...]] = {
    "customer": ("name", "salutation"), "ticket": ("ref",), "order": ("code", "product"),
    "supplier": ("name",), "deadline": (), "agent": ("name",)}
FIELDS = ("code", "title", *LANGUAGES)
CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
MAX_TITLE = 75  # Slack's limit for an option's text
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


class ReplyError(Exception):
    """A saved reply that cannot be used, with a reason fit to show the agent."""


class ReplyFileError(ReplyError):
    """A file under `replies/` that cannot be loaded: the message names the file."""


class UnknownReply(ReplyError):
    def __init__(self, code: str, known: list[str]) -> None:
        listed = ", ".join(known) if known else "none are configured"
        super().__init__(f"no saved reply {code!r} (known: {listed})")
        self.code = code


class MissingVariable(ReplyError):
    def __init__(self, variable: str, code: str = "") -> None:
        where = f"saved reply {code!r} needs" if code else "needs"
        super().__init__(f"{where} {variable}, which is missing here: nothing was sent "
                         "(write the answer yourself, or complete the ticket first)")
        self.variable = variable
        self.code = code


class _Missing(StrictUndefined):
    """Undefined the strict way (printing, iterating or comparing it fails, naming the
    variable), except that it is false in a test, so `{% if order %}` works."""

    __slots__ = ()

    def _fail(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise MissingVariable(self._undefined_name or "a variable")

    __iter__ = __str__ = __len__ = __eq__ = __ne__ = __hash__ = __contains__ = _fail

    def __bool__(self) -> bool:  # type: ignore[override]
        return False

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return _Missing(name=f"{self._undefined_name}.{name}")


class _Group:
    """`customer`, `order`, ...: attributes from a dict; a value that is None is missing."""

    __slots__ = ("_name", "_values")

    def __init__(self, name: str, values: Mapping[str, str | None]) -> None:
        self._name = name
        self._values = dict(values)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_") or attribute not in VARIABLES[self._name]:
            raise UndefinedError(f"{self._name}.{attribute} is not a variable (known: "
                                 f"{', '.join(_known())})")
        value = self._values.get(attribute)
        return _Missing(name=f"{self._name}.{attribute}") if value is None else value

    def __str__(self) -> str:
        raise UndefinedError(f"{self._name} on its own is not a value: write "
                             f"{self._name}.{VARIABLES[self._name][0]}")


def _known() -> list[str]:
    return [f"{group}.{a}" if a else group for group, attrs in VARIABLES.items()
            for a in (attrs or ("",))]


def _capitalize_first(value: object) -> str:
    """`chị Lan` → `Chị Lan` at the start of a sentence (Jinja's `capitalize` would lower
    the rest: `Chị lan`)."""
    text = str(value)
    return text[:1].upper() + text[1:]


ENV = ImmutableSandboxedEnvironment(undefined=_Missing, autoescape=False, trim_blocks=True,
                                    lstrip_blocks=True)
ENV.filters["capitalize_first"] = _capitalize_first


@dataclass(frozen=True, slots=True)
class Facts:
    """What a ticket offers a saved reply; None where the ticket has nothing."""

    ticket_ref: str
    customer_name: str | None = None
    order_code: str | None = None
    order_product: str | None = None
    supplier_name: str | None = None
    deadline: datetime | None = None
    agent_name: str | None = None
    zone: ZoneInfo = ZoneInfo("Asia/Ho_Chi_Minh")

    def context(self, lang: str) -> dict[str, Any]:
        values: dict[str, Any] = {
            "customer": _Group("customer", {"name": self.customer_name,
                                            "salutation": salutation(self.customer_name,
                                                                     lang)}),
            "ticket": _Group("ticket", {"ref": self.ticket_ref}),
            "agent": _Group("agent", {"name": self.agent_name})}
        if self.order_code:  # absent groups are undefined: `{% if order %}` is false
            values["order"] = _Group("order", {"code": self.order_code,
                                               "product": self.order_product})
        if self.supplier_name:
            values["supplier"] = _Group("supplier", {"name": self.supplier_name})
        if self.deadline is not None:
            values["deadline"] = self.deadline.astimezone(self.zone).strftime("%d/%m %H:%M")
        return values


SAMPLE = Facts(ticket_ref="MC-1", customer_name="Nguyễn Thị Lan", order_code="DH25220868",
               order_product="Tai nghe Bluetooth", supplier_name="Nhà cung cấp",
               deadline=datetime(2026, 1, 2, 3, 4, tzinfo=UTC), agent_name="Lan")


@dataclass(frozen=True, slots=True)
class SavedReply:
    code: str
    title: str
    texts: Mapping[str, Template]  # by language
    source: str  # the file it came from

    def render(self, facts: Facts, lang: str) -> str:
        """The text in `lang` (Vietnamese unless "en"), filled in; MissingVariable when the
        ticket lacks something the text prints."""
        template = self.texts["en" if lang == "en" else "vi"]
        try:
            text = template.render(facts.context("en" if lang == "en" else "vi"))
        except MissingVariable as exc:
            raise MissingVariable(exc.variable, self.code) from None
        except UndefinedError as exc:
            raise ReplyError(f"saved reply {self.code!r}: {exc}") from None
        return _BLANK_LINES.sub("\n\n", text).strip()


@dataclass(frozen=True, slots=True)
class Rendered:
    code: str
    lang: str
    text: str


def _compile(where: str, lang: str, source: object) -> Template:
    if not isinstance(source, str) or not source.strip():
        raise ReplyFileError(f"{where}: {lang} must be a text (Vietnamese and English are "
                             "both required)")
    try:
        names = meta.find_undeclared_variables(ENV.parse(source))
        template = ENV.from_string(source)
    except TemplateError as exc:
        number = getattr(exc, "lineno", None)
        line = f" line {number}:" if number else ""
        raise ReplyFileError(f"{where}: {lang}:{line} {exc}") from None
    unknown = sorted(names - set(VARIABLES))
    if unknown:
        raise ReplyFileError(f"{where}: {lang}: unknown variable {', '.join(unknown)} "
                             f"(known: {', '.join(_known())})")
    try:
        template.render(SAMPLE.context(lang))
    except MissingVariable as exc:  # with every variable present: not one of ours
        raise ReplyFileError(f"{where}: {lang}: {exc.variable} is not a variable (known: "
                             f"{', '.join(_known())})") from None
    except (UndefinedError, TemplateError) as exc:
        raise ReplyFileError(f"{where}: {lang}: {exc}") from None
    return template


def _entry(path: Path, number: int, raw: object) -> SavedReply:
    where = f"{path}: reply {number}"
    if not isinstance(raw, dict):
        raise ReplyFileError(f"{where}: expected code, title, vi and en, found "
                             f"{type(raw).__name__}")
    if isinstance(raw.get("code"), str):
        where += f" ({raw['code']})"
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    missing = [f for f in FIELDS if f not in raw]
    if unknown or missing:
        raise ReplyFileError(f"{where}: " + "; ".join(
            ([f"unknown field {', '.join(unknown)}"] if unknown else []) +
            ([f"missing {', '.join(missing)}"] if missing else [])) +
            f" (a reply has {', '.join(FIELDS)})")
    code, title = raw["code"], raw["title"]
    if not isinstance(code, str) or not CODE.match(code):
        raise ReplyFileError(f"{where}: code {code!r} must be 2-32 lower-case letters, digits "
                             "or _, starting with a letter")
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > MAX_TITLE:
        raise ReplyFileError(f"{where}: title must be a text of 1-{MAX_TITLE} characters")
    texts = {lang: _compile(where, lang, raw[lang]) for lang in LANGUAGES}
    return SavedReply(code, " ".join(title.split()), texts, str(path))


def load_file(path: Path) -> list[SavedReply]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplyFileError(f"{path}: cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ReplyFileError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return []
    entries = data if isinstance(data, list) else [data]
    return [_entry(path, n, raw) for n, raw in enumerate(entries, 1)]


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def load_directory(directory: Path) -> dict[str, SavedReply]:
    """Every reply under `directory`, by code, in file order; ReplyFileError on the first
    problem. No folder is no saved replies."""
    found: dict[str, SavedReply] = {}
    for path in _files(directory):
        for reply in load_file(path):
            if reply.code in found:
                raise ReplyFileError(f"{path}: code {reply.code} is used twice (also in "
                                     f"{found[reply.code].source}); codes must be unique")
            found[reply.code] = reply
    return found


class SavedReplies:
    """The library: loaded (and checked) when built, reloaded when the folder changes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problem: str | None = None  # why the last reload failed, if it did
        self._lock = threading.Lock()
        self._stamp = self._signature()
        self._replies = load_directory(directory)

    def _signature(self) -> tuple[tuple[str, int, int], ...]:
        stamps = []
        for path in _files(self.directory):
            try:
                stat = path.stat()
            except OSError:
                continue
            stamps.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def _current(self) -> dict[str, SavedReply]:
        with self._lock:
            stamp = self._signature()
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._replies = load_directory(self.directory)
                    self.problem = None
                    log.info("saved replies reloaded: %d from %s", len(self._replies),
                             self.directory)
                except ReplyFileError as exc:
                    self.problem = str(exc)
                    log.error("saved replies not reloaded, the previous ones stay: %s", exc)
            return self._replies

    def all(self) -> list[SavedReply]:
        return list(self._current().values())

    def codes(self) -> list[str]:
        return list(self._current())

    def get(self, code: str) -> SavedReply:
        replies = self._current()
        found = replies.get(code)
        if found is None:
            raise UnknownReply(code, list(replies))
        return found

    def render(self, code: str, facts: Facts, lang: str) -> Rendered:
        reply = self.get(code)
        lang = lang if lang in LANGUAGES else "vi"
        return Rendered(reply.code, lang, reply.render(facts, lang))


def replies_dir(templates_dir: str | None) -> Path:
    return Path(templates_dir or DEFAULT_DIR) / "replies"


@lru_cache(maxsize=8)
def _library(directory: Path) -> SavedReplies:
    return SavedReplies(directory)


def library_for(templates_dir: str | None) -> SavedReplies:
    """One library per folder per process (it reloads itself)."""
    return _library(replies_dir(templates_dir))
