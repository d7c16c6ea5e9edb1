"""Charsets: the labels as the WHATWG Encoding Standard maps them, the corpus of real mail
in tests/connectors/email/corpus/charsets (sources in its SOURCES.md) decoded to what its
writers wrote, and the `gb2312` subject of the issue that started this."""

from __future__ import annotations

import base64
import codecs
import json
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from connectors.email.charsets import WHATWG_LABELS, codec_for
from connectors.email.decoding import ASCII_LABELS
from connectors.email.parse import decode_bytes, decode_header, parse

CORPUS = Path(__file__).parent / "corpus" / "charsets"
EXPECTED: dict[str, dict[str, str | list[str]]] = json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8"))


def test_every_corpus_mail_has_expectations() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


def test_the_corpus_spans_the_charsets_it_is_for() -> None:
    declared = {str(want["charset"]).split()[0] for want in EXPECTED.values()}
    assert len(declared) >= 15
    assert {"windows-1258", "viscii", "gb2312", "gbk", "gb18030", "big5", "iso-2022-jp",
            "shift_jis", "euc-jp", "euc-kr", "ks_c_5601-1987", "koi8-r", "windows-1251",
            "iso-8859-1", "windows-1252", "iso-8859-15"} <= declared


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_text(name: str) -> None:
    mail = parse((CORPUS / name).read_bytes())
    text = unicodedata.normalize("NFC", mail.text)
    for snippet in EXPECTED[name]["text_contains"]:
        assert snippet in text, f"{snippet!r} not in the text"
    assert "\ufffd" not in text and "\ufffd" not in mail.subject


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_subject(name: str) -> None:
    """Six of these fold between plain text and an encoded word ("Test\r\n =?gbk?..."): the
    space before the encoded word must survive the unfolding."""
    assert parse((CORPUS / name).read_bytes()).subject == EXPECTED[name]["subject"]


@pytest.mark.parametrize(("label", "codec"), [
    ("gb2312", "gbk"), ("GB2312", "gbk"), (" gb2312\t", "gbk"), ("chinese", "gbk"),
    ("x-gbk", "gbk"), ("csgb2312", "gbk"), ("gbk", "gbk"), ("gb18030", "gb18030"),
    ("big5", "big5hkscs"), ("big5-hkscs", "big5hkscs"), ("cn-big5", "big5hkscs"),
    ("iso-8859-1", "cp1252"), ("ISO-8859-1", "cp1252"), ("latin1", "cp1252"),
    ("us-ascii", "cp1252"), ("ascii", "cp1252"), ("ansi_x3.4-1968", "cp1252"),
    ("windows-1252", "cp1252"), ("ks_c_5601-1987", "cp949"), ("euc-kr", "cp949"),
    ("korean", "cp949"), ("windows-949", "cp949"), ("shift_jis", "cp932"), ("sjis", "cp932"),
    ("windows-31j", "cp932"), ("ms932", "cp932"), ("x-sjis", "cp932"),
    ("iso-2022-jp", "iso2022_jp"), ("csiso2022jp", "iso2022_jp"), ("euc-jp", "euc_jp"),
    ("koi8-r", "koi8-r"), ("koi8", "koi8-r"), ("koi8-u", "koi8-u"), ("koi8-ru", "koi8-u"),
    ("windows-1251", "cp1251"), ("iso-8859-5", "iso8859-5"), ("cyrillic", "iso8859-5"),
    ("ibm866", "cp866"), ("iso-8859-15", "iso8859-15"), ("l9", "iso8859-15"),
    ("iso-8859-9", "cp1254"), ("tis-620", "cp874"), ("iso-8859-11", "cp874"),
    ("windows-1258", "cp1258"), ("cp1258", "cp1258"), ("x-cp1258", "cp1258"),
    ("utf-8", "utf-8"), ("utf8", "utf-8"), ("unicode-1-1-utf-8", "utf-8"),
    ("utf-16", "utf-16-le"), ("utf-16le", "utf-16-le"), ("unicode", "utf-16-le"),
    ("ucs-2", "utf-16-le"), ("utf-16be", "utf-16-be"), ("unicodefffe", "utf-16-be"),
    ("iso-8859-8-i", "iso8859-8"), ("macintosh", "mac-roman"),
    ("x-mac-cyrillic", "mac-cyrillic"), ("x-user-defined", "x-user-defined"),
    # labels mail uses that the Standard lacks (or gives its replacement encoding)
    ("utf-7", "utf-7"), ("unicode-1-1-utf-7", "utf-7"), ("iso-2022-jp-2", "iso2022_jp_2"),
    ("iso-2022-kr", "iso2022_kr"), ("hz-gb-2312", "hz"), ("viscii", "viscii"),
    ("latin-1", "cp1252"), ("cp936", "gbk"), ("euc-cn", "gbk"), ("utf-8*vi", "utf-8"),
    ('"utf-8"', "utf-8"),
    # no charset at all
    ("x-unknown", None), ("unknown-8bit", None), ("replacement", None),
    ("iso-2022-cn", None), ("no-such-charset", None), ("base64", None), ("rot13", None),
    ("unicode_escape", None), ("", None), (None, None),
])
def test_codec_for(label: str | None, codec: str | None) -> None:
    assert codec_for(label) == codec


def test_every_label_of_an_encoding_reads_the_same_and_the_codec_exists() -> None:
    for encoding, labels in WHATWG_LABELS.items():
        found = {codec_for(label) for label in labels.split()}
        if encoding == "replacement":
            continue
        assert len(found) == 1, encoding
        [codec] = found
        assert codec is not None and codecs.lookup(codec).name == codec
    assert sum(len(labels.split()) for labels in WHATWG_LABELS.values()) == 228


# 镕 (in 朱镕基) and 堃 are GBK, not GB2312: mail labelled gb2312 carries them all the time.
GBK_ONLY = "王堃：订单未收到，请联系朱镕基"


def test_a_gb2312_subject_with_gbk_characters_decodes() -> None:
    """The issue: the fallback chain made this mojibake (UTF-8, then Windows-1258)."""
    payload = GBK_ONLY.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        payload.decode("gb2312")
    word = f"=?gb2312?B?{base64.b64encode(payload).decode('ascii')}?="
    raw = (f"From: a@example.cn\r\nTo: hotro@shop.example.vn\r\nSubject: {word}\r\n"
           "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64"
           "\r\n\r\n").encode("ascii") + base64.encodebytes(payload)
    mail = parse(raw)
    assert mail.subject == GBK_ONLY
    assert mail.text == GBK_ONLY
    assert not mail.problems
    assert decode_header(word) == GBK_ONLY


def test_windows_1258_is_recomposed_and_guessed_when_undeclared() -> None:
    """Vietnamese keyboards on Windows write most toned letters as a letter and a
    combining mark; the text must come out NFC, declared or not."""
    text = "Tôi chưa nhận được hàng, đơn DH20261234 đã quá hạn giao"
    payload = "".join(map(_as_windows_keyboards_write, text)).encode("cp1258")
    assert decode_bytes(payload, "windows-1258", []) == text
    problems: list[str] = []
    assert decode_bytes(payload, None, problems) == text
    assert decode_bytes(payload, "utf-8", problems) == text
    assert any("declared charset 'utf-8' did not decode" in p for p in problems)


def test_iso_2022_jp_with_nec_characters_reads_as_the_standard_reads_it() -> None:
    """① and ㈱ (JIS row 13, NEC's) fill Japanese mail; Python's ISO-2022-JP refuses them."""
    payload = b"\x1b$B\x2d\x21\x2d\x6a\x24\x22\x1b(B ok"
    with pytest.raises(UnicodeDecodeError):
        payload.decode("iso2022_jp")
    problems: list[str] = []
    assert decode_bytes(payload, "iso-2022-jp", problems) == "①㈱あ ok"
    assert not problems


def _as_windows_keyboards_write(letter: str) -> str:
    if letter.encode("cp1258", "ignore"):
        return letter
    marks = unicodedata.normalize("NFD", letter)
    tone = next(mark for mark in marks if mark in "\u0300\u0301\u0303\u0309\u0323")
    return unicodedata.normalize("NFC", marks.replace(tone, "")) + tone


def test_a_label_python_lacks_is_guessed_and_said() -> None:
    problems: list[str] = []
    assert decode_bytes("Алфавит и вопрос".encode("koi8-r"), "x-koi8-unknown",
                        problems) == "Алфавит и вопрос"
    assert "unknown charset 'x-koi8-unknown'" in problems


@cache
def _alphabet(codec: str) -> str:
    """Characters `codec` writes and reads back as themselves, from a sample of the planes
    mail uses (cp932 writes ¬ as the byte pair it reads as ￢: a codec's own asymmetry)."""
    sample = [*range(0x20, 0x3100), *range(0x4E00, 0x9FA6, 7), *range(0xAC00, 0xD7A4, 11),
              *range(0xF780, 0xF800), *range(0xFF01, 0xFF9F)]
    out = []
    for point in sample:
        try:
            if chr(point).encode(codec).decode(codec) == chr(point):
                out.append(chr(point))
        except UnicodeError:
            continue
    return "".join(out)


LABELLED = sorted((label, codec) for labels in WHATWG_LABELS.values()
                  for label in labels.split() if (codec := codec_for(label)) is not None)


@given(st.sampled_from(LABELLED).flatmap(
    lambda pair: st.tuples(st.just(pair), st.text(st.sampled_from(_alphabet(pair[1])),
                                                  max_size=40))))
def test_text_a_label_can_write_comes_back(case: tuple[tuple[str, str], str]) -> None:
    """Any text the labelled encoding can write reads back as itself (NFC), whichever of
    the Standard's labels names it. A byte order mark at the start outweighs the label,
    as in browsers, so such text is left out."""
    (label, codec), text = case
    payload = text.encode(codec)
    assume(not payload.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")))
    # an ASCII label on 8-bit bytes is known to be wrong: those are read as UTF-8 if they
    # are (test_an_ascii_label_on_utf8_bytes), so only ASCII text keeps the label's reading
    assume(payload.isascii() or label.strip().lower() not in ASCII_LABELS)
    problems: list[str] = []
    assert decode_bytes(payload, label, problems) == unicodedata.normalize("NFC", text)
    assert not problems


def test_an_ascii_label_on_utf8_bytes_reads_them_as_utf8() -> None:
    """A mailer that labels its UTF-8 `us-ascii` (8-bit bytes ASCII cannot have): the text
    comes out as written, not as windows-1252 mojibake, and the problem is said."""
    problems: list[str] = []
    text = "Đơn hàng của tôi chưa giao"
    assert decode_bytes(text.encode(), "us-ascii", problems) == text
    assert problems == ["declared charset 'us-ascii' did not decode; used utf-8"]
    assert decode_bytes(b"plain", "us-ascii", []) == "plain"
