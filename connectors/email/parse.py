"""MIME in, facts out: addresses, threading headers, decoded text, attachments, and whether
a robot wrote it.

Real mail is broken in known ways and each is handled, never raised: RFC 2047 headers that
lie about their charset, bodies in `windows-1258` (Vietnamese, with combining tone marks that
must be recomposed to NFC), charsets that do not exist, text that says it is UTF-8 and is
not (decoded with replacement, kept), HTML-only mail (turned into readable text), NUL bytes
(removed: PostgreSQL cannot store them), and parts nested absurdly deep or by the thousand
(an attachment bomb stops at a fixed budget).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.header import decode_header as decode_header_parts
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache

import html2text

from connectors.email import decoding, robots
from connectors.email.mime import MAX_DEPTH, MAX_PARTS, MSGID, first_msgid, walk

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SURROGATES = re.compile("[\udc80-\udcff]")  # how compat32 carries 8-bit header bytes


@dataclass(frozen=True, slots=True)
class MailPart:
    filename: str
    content_type: str
    payload: bytes
    inline: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str | None
    from_address: str | None
    from_name: str | None
    reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    html: str | None
    attachments: tuple[MailPart, ...]
    auto: str | None  # "auto-reply" | "bounce" | "complaint" | None (see robots.detect)
    bounced_message_id: str | None
    suppress_auto_response: bool
    problems: tuple[str, ...] = field(default=())
    sha256: str = ""
    reply_to_name: str | None = None

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this mail answers, most recent first (In-Reply-To, then References
        from the end), without repeats."""
        seen: dict[str, None] = {}
        for msgid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(msgid, None)
        return tuple(seen)


def parse(raw: bytes) -> ParsedMail:
    problems: list[str] = []
    if b"\x00" in raw:
        problems.append("NUL bytes removed")
        raw = raw.replace(b"\x00", b"")
    # compat32 hands back raw header strings: decoding them ourselves (RFC 2047, with
    # charset fallbacks) is both more forgiving and ten times faster than the `default`
    # policy's header registry, which dominated the cost of ingesting mail.
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers = _index(msg)
    subject = _clean_header(_header(headers, "Subject", problems))
    from_name, from_address = _first_address(headers, "From", problems)
    if from_address is None and not any(p.startswith("From:") for p in problems):
        problems.append("no From address: the writer is unknown and gets no answer")
    reply_to_name, reply_to = _first_address(headers, "Reply-To", problems)
    parts = _parts(msg, problems)
    text, html = _body(msg, parts, problems)
    attachments = tuple(_attachments(parts))
    auto, bounced = _robot(msg, parts, headers, subject, text, from_address)
    return ParsedMail(
        message_id=first_msgid(_header(headers, "Message-ID", problems)),
        from_address=from_address,
        from_name=from_name,
        reply_to=reply_to,
        reply_to_name=reply_to_name,
        to=_addresses(headers, "To", problems),
        cc=_addresses(headers, "Cc", problems),
        subject=subject,
        date=_date(_header(headers, "Date", problems)),
        in_reply_to=tuple(dict.fromkeys(MSGID.findall(_header(headers, "In-Reply-To", problems)))),
        references=tuple(dict.fromkeys(MSGID.findall(_header(headers, "References", problems)))),
        text=text,
        html=html,
        attachments=attachments,
        auto=auto,
        bounced_message_id=bounced,
        suppress_auto_response=bool(_header(headers, "X-Auto-Response-Suppress", problems)),
        problems=tuple(problems),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def decode_header(value: object, problems: list[str] | None = None) -> str:
    """RFC 2047 encoded words to text, each in its declared charset as mail readers read
    the label (see `decoding`), with a guess only when the label is missing or wrong; raw
    8-bit headers are decoded the same way. The value is unfolded first (RFC 5322: the
    line break goes, the white space after it stays): handed a folded value, the stdlib
    drops the space between plain text and an encoded word on the next line."""
    if value is None:
        return ""
    if isinstance(value, Header):
        chunks = [(str(s), None) if isinstance(s, str) else (s, c)
                  for s, c in decode_header_parts(value)]
    else:
        text = _FOLD.sub("", str(value))
        try:
            chunks = decode_header_parts(text)
        except Exception:
            chunks = [(text, None)]
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset, problems if problems is not None else []))
        else:
            out.append(chunk)
    return unicodedata.normalize("NFC", "".join(out))


Headers = dict[str, list[str]]


def _index(msg: Message) -> Headers:
    """Header name (lower case) → its values, in one pass: `Message.get` rescans every
    header for every lookup, and a mail is looked up about twenty times."""
    index: Headers = {}
    for name, value in msg.items():
        index.setdefault(name.lower(), []).append(value)
    return index


def _header(headers: Headers, name: str, problems: list[str]) -> str:
    """A header as text, decoded; broken encodings are decoded with replacement."""
    values = headers.get(name.lower())
    if not values:
        return ""
    value = values[0]
    if isinstance(value, str) and _SURROGATES.search(value):
        # 8-bit bytes in a header arrive as surrogates: recover them and decode properly
        raw = value.encode("utf-8", "surrogateescape")
        return decode_bytes(raw, None, problems)
    return decode_header(value, problems)


def _clean_header(value: str) -> str:
    """One line, NFC, no control characters: what we show and what we may echo back."""
    value = re.sub(r"[\r\n\t\x00-\x1f\x7f]+", " ", value)
    return unicodedata.normalize("NFC", " ".join(value.split()))


@lru_cache(maxsize=4096)
def _address_pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The stdlib's careful (and slow: ~50 µs) address parser, once per distinct header:
    most mail is To our own mailbox, and a customer's From repeats."""
    return tuple(getaddresses(list(values)))


def _addresses(headers: Headers, name: str, problems: list[str]) -> tuple[str, ...]:
    values = headers.get(name.lower(), [])
    if not values:
        return ()
    try:
        pairs = _address_pairs(tuple(_raw_header(v) for v in values))
    except Exception:
        problems.append(f"{name}: unreadable address list")
        return ()
    return tuple(addr.strip().lower() for _, addr in pairs if "@" in addr)


def _first_address(headers: Headers, name: str,
                   problems: list[str]) -> tuple[str | None, str | None]:
    values = headers.get(name.lower(), [])
    if not values:
        return None, None
    try:
        pairs = _address_pairs(tuple(_raw_header(v) for v in values))
    except Exception:
        problems.append(f"{name}: unreadable address")
        return None, None
    for display, addr in pairs:
        if "@" in addr:
            return (_clean_header(decode_header(display, problems)) or None), addr.strip().lower()
    return None, None


def _raw_header(value: object) -> str:
    text = str(value)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True, slots=True)
class _Part:
    """What the body and the attachments both ask of a part, read once: each question
    to `Message` rescans the part's headers."""
    message: Message
    kind: str
    multipart: bool
    disposition: str | None
    filename: str | None


def _parts(msg: Message, problems: list[str]) -> list[_Part]:
    parts: list[_Part] = []
    for part, depth, kind in walk(msg):
        if len(parts) >= MAX_PARTS:
            problems.append(f"more than {MAX_PARTS} MIME parts: the rest ignored")
            break
        multipart = part.is_multipart()
        if depth >= MAX_DEPTH and multipart:
            problems.append(f"MIME nesting deeper than {MAX_DEPTH}: ignored below")
        disposition = part.get_content_disposition()
        # a file name is a Content-Disposition `filename` or a Content-Type `name`
        named = (not multipart or kind == "message/rfc822") and (
            disposition is not None or "name" in str(part.get("content-type", "")).lower())
        parts.append(_Part(part, kind, multipart, disposition,
                           part.get_filename() if named else None))
    return parts


def decode_bytes(payload: bytes, declared: str | None, problems: list[str]) -> str:
    """Bytes to NFC text (NFC recomposes Windows-1258's separate tone marks): the declared
    charset as browsers read its label, a guess only when it is missing or wrong — see
    `decoding.decode`."""
    return unicodedata.normalize("NFC", decoding.decode(payload, declared, problems))


def _part_text(part: Message, problems: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload()).encode("utf-8", "replace")
    charset = part.get_content_charset()
    return decode_bytes(payload, charset.lower() if charset else None, problems).replace(
        "\x00", "")


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = False  # an inline picture is worth a line the agent can see
    converter.ignore_emphasis = True
    converter.ignore_links = False
    converter.single_line_break = False
    return converter.handle(html).strip()


def _body(msg: Message, parts: list[_Part], problems: list[str]) -> tuple[str, str | None]:
    plain: str | None = None
    html: str | None = None
    for part in parts:
        if part.multipart or part.disposition == "attachment":
            continue
        if part.kind == "text/plain" and plain is None:
            plain = _part_text(part.message, problems)
        elif part.kind == "text/html" and html is None:
            html = _part_text(part.message, problems)
    if plain is None and html is not None:
        return html_to_text(html), html
    if plain is None and not msg.is_multipart():
        # no Content-Type at all (or something odd): the body is all there is
        return _part_text(msg, problems), None
    return (plain or "").strip(), html


def _attachments(parts: list[_Part]) -> Iterator[MailPart]:
    body_used = {"text/plain": False, "text/html": False}
    top = parts[0].kind if parts else ""
    for info in parts:
        part, kind, disposition, filename = info.message, info.kind, info.disposition, \
            info.filename
        if kind in ("message/delivery-status", "text/rfc822-headers") or (
                kind == "message/rfc822" and top == "multipart/report"):
            continue  # the machinery of a bounce, not something the customer attached
        if info.multipart and kind != "message/rfc822":
            continue
        if disposition != "attachment" and not filename and kind != "message/rfc822":
            if kind in body_used and not body_used[kind]:
                body_used[kind] = True
            continue
        payload: object
        if kind == "message/rfc822":
            inner = part.get_payload()
            attached = inner[0] if isinstance(inner, list) and inner else None
            payload = attached.as_bytes() if isinstance(attached, Message) else b""
            if not filename and isinstance(attached, Message):
                filename = f"{_clean_header(str(attached.get('Subject', 'message')))}.eml"
        else:
            payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        name = _clean_header(filename or f"part.{kind.split('/')[-1]}")
        yield MailPart(name, kind, payload, inline=disposition == "inline")


def _robot(msg: Message, parts: list[_Part], headers: Headers, subject: str, text: str,
           from_address: str | None) -> tuple[str | None, str | None]:
    """Whether a machine wrote the mail ("bounce", "complaint", "auto-reply") and which of our
    messages it concerns. Weighing those signs is rules and corpora of its own, kept apart from
    parsing in connectors/email/robots.py."""
    return robots.detect(msg, [part.kind for part in parts], headers, subject, text,
                         from_address)
