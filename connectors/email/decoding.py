"""Bytes to text whatever the mail says they are: its declared charset, read as browsers
read the label (`charsets.codec_for`), and only when there is none or it is wrong, a guess.

The order is that of the evidence. A byte order mark outweighs any label, as in browsers.
A declared charset that decodes is trusted, as browsers trust it: that is nearly all mail,
and it costs one `bytes.decode`. Only bytes the label cannot be right about, or bytes
without a label, are looked at further: UTF-8 if they are UTF-8 (legacy text almost never
is by chance), the label's wider reading if it has one (GB18030 under `gbk`), UTF-8 with
a few broken bytes replaced if that is what they are, and then `charset-normalizer`'s
guess, with one correction: Vietnamese in Windows-1258 looks to a detector like a Western
code page with odd accents, so when the bytes read as Vietnamese under Windows-1258 and
the guess was a Latin code page, Windows-1258 wins.
"""

from __future__ import annotations

import re

from connectors.email import charsets

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# The codecs a mail may really be in, for the detector to choose from (left to itself it
# also weighs a hundred code pages no mail uses, hp_roman8 or cp037, and on a short header
# picks one of them), most used first: of the readings the detector scores within a hair
# of its best (a short header often fits five; it scores Japanese in cp932 a shade worse
# than the Korean gibberish cp949 makes of it), the first in this list is taken.
_CANDIDATES = [
    "utf_8", "cp1252", "cp1258", "cp1250", "cp1251", "koi8_r", "gb18030", "big5hkscs",
    "cp932", "euc_jp", "iso2022_jp", "cp949", "iso8859_2", "iso8859_15", "cp1254", "cp1257",
    "cp1253", "cp1255", "cp1256", "iso8859_5", "iso8859_7", "koi8_u", "cp866",
    "mac_cyrillic", "cp874", "cp950", "utf_16",
]
_RANK = {name: rank for rank, name in enumerate(_CANDIDATES)}
# Labels that say ASCII (the Standard reads them as windows-1252, which a mail's 8-bit bytes
# under such a label almost never are).
ASCII_LABELS = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "csascii", "ibm367",
                          "iso646-us", "iso-ir-6", "us", "cp367", "646"})
# Labels that say the charset is not known: the same as no label.
_NO_LABEL = {"unknown-8bit", "x-unknown", "unknown"}
_LATIN = {None, "cp1252", "cp1250", "cp1254", "cp1257", "iso8859-2", "iso8859-15"}
_TONE_AFTER_VOWEL = re.compile("[aeiouyâêôăơưAEIOUYÂÊÔĂƠƯ][\u0300\u0301\u0303\u0309\u0323]")
_VIETNAMESE_LETTERS = re.compile("[ăđơưĂĐƠƯ]")
_D_BAR = re.compile("[đĐ]")


def decode(payload: bytes, declared: str | None, problems: list[str]) -> str:
    """`payload` as text (not yet NFC). What went wrong is added to `problems`: an
    unknown label ("unknown charset"), a label the bytes contradict ("declared charset …
    did not decode"), bytes nothing reads ("undecodable text")."""
    if payload.startswith(_BOMS):
        return _decode_bom(payload)
    key = charsets.label_key(declared) if declared else ""
    if key in _NO_LABEL:
        declared = None
    codec = charsets.codec_for(declared)
    if codec is not None and key in ASCII_LABELS and not payload.isascii():
        # ASCII has no 8-bit bytes, so such a label is wrong about them whatever a browser
        # would do with it; nearly always they are UTF-8 from a mailer that said "ascii"
        return _rescue(payload, declared, codec, problems)
    if codec is not None:
        try:
            return payload.decode(codec)
        except UnicodeDecodeError:
            pass
    elif declared:
        problems.append(f"unknown charset {declared!r}")
    return _rescue(payload, declared, codec, problems)


def _decode_bom(payload: bytes) -> str:
    """A byte order mark outweighs any label, as in browsers."""
    if payload.startswith(b"\xef\xbb\xbf"):
        return payload[3:].decode("utf-8", "replace")
    codec = "utf-16-le" if payload.startswith(b"\xff\xfe") else "utf-16-be"
    return payload[2:].decode(codec, "replace")


def _rescue(payload: bytes, declared: str | None, codec: str | None,
            problems: list[str]) -> str:
    wider = charsets.decode_wider(codec, payload) if codec is not None else None
    if wider is not None and payload.isascii():
        return wider  # ISO-2022-JP: all ASCII, so "valid UTF-8" would say nothing
    if codec != "utf-8" or not declared:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            _note(declared, "utf-8", problems)
            return text
    if wider is not None:
        return wider
    if _mostly_utf8(payload):
        problems.append("text in UTF-8 with some broken bytes: those replaced")
        return payload.decode("utf-8", "replace")
    guessed = guess(payload)
    if guessed is not None:
        text = payload.decode(guessed, "replace")
        _note(declared, guessed, problems)
        return text
    problems.append("undecodable text kept with replacement characters")
    return charsets.decode_leniently(codec or "utf-8", payload)


def _note(declared: str | None, used: str, problems: list[str]) -> None:
    if declared:
        problems.append(f"declared charset {declared!r} did not decode; used {used}")


def _mostly_utf8(payload: bytes) -> bool:
    """UTF-8 cut or spliced somewhere (a truncated quote, one pasted Windows character):
    far more characters that UTF-8 reads than bytes it cannot. Legacy text read as UTF-8
    is almost all errors."""
    text = payload.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    return sum(1 for char in text if char > "\x7f") - broken >= 4 * broken


def guess(payload: bytes) -> str | None:
    """The Python codec `payload` is most likely in, or None; UTF-8 and ASCII are assumed
    already ruled out. The detector is imported on first use: most processes never guess."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(payload, cp_isolation=_CANDIDATES))
    found = None
    if matches:
        best = matches[0]
        tied = [m for m in matches if m.chaos - best.chaos < 0.05
                and abs(m.coherence - best.coherence) < 0.01]
        found = charsets.codec_for(min(tied, key=lambda m: _RANK.get(m.encoding, 99)).encoding)
    if found in _LATIN and _reads_as_vietnamese(payload):
        return "cp1258"
    return found


def _reads_as_vietnamese(payload: bytes) -> bool:
    """Windows-1258 writes most toned letters as a vowel and a combining tone mark (0xCC,
    0xEC, 0xDE, 0xD2, 0xF2), which a Western code page shows as Ì ì Þ Ò ò; Vietnamese has
    them after a vowel in nearly every sentence, other Latin languages seldom. Đ (0xD0,
    0xF0: Icelandic's Ð ð) alone is evidence too, for short headers ("Đơn hàng")."""
    try:
        text = payload.decode("cp1258")
    except UnicodeDecodeError:
        return False
    tones = len(_TONE_AFTER_VOWEL.findall(text))
    if not tones and not _D_BAR.search(text):
        return False
    foreign = sum(1 for char in text if char > "\x7f")
    return 4 * (tones + len(_VIETNAMESE_LETTERS.findall(text))) >= foreign
