"""Charset labels read as browsers and mail readers read them, and the readings Python
lacks (x-user-defined, VISCII, ISO-2022-JP with NEC's characters).

A mail's charset label is mostly right but often narrower than the text: `gb2312` mail
holds GBK characters, `iso-8859-1` mail holds Windows-1252 quotes, `ks_c_5601-1987` mail
holds cp949 syllables, `shift_jis` mail holds Microsoft's extensions. Readers cope because
they map each label as the WHATWG Encoding Standard does (`gb2312` → GBK, `iso-8859-1` →
windows-1252, `euc-kr` → windows-949, `shift_jis` → Microsoft's cp932), and so do we.
Python's own aliases map them to the narrow standards, which fail or mis-read such mail.

`webencodings` implements the Standard's label lookup, but its table dates from 2017 and it
hands each name to Python's codec of that name (`euc-kr`, `shift_jis`, `big5`: the narrow
ones), so it would still need the corrections below. The table is therefore kept here,
derived from the Standard's own data: whatwg/encoding `encodings.json` at a985b62a9b45
(labels unchanged since 02b3036199, May 2020; © WHATWG, CC BY 4.0).

What to do with bytes a label does not fit, or with bytes without one, is `decoding`'s.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

# The Standard's encodings and their labels (lower case), in its order.
WHATWG_LABELS: dict[str, str] = {
    "UTF-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "IBM866": "866 cp866 csibm866 ibm866",
    "ISO-8859-2": "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 "
                  "iso_8859-2:1987 l2 latin2",
    "ISO-8859-3": "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 "
                  "iso_8859-3:1988 l3 latin3",
    "ISO-8859-4": "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 "
                  "iso_8859-4:1988 l4 latin4",
    "ISO-8859-5": "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 "
                  "iso_8859-5 iso_8859-5:1988",
    "ISO-8859-6": "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 "
                  "iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 "
                  "iso_8859-6 iso_8859-6:1987",
    "ISO-8859-7": "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 "
                  "iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    "ISO-8859-8": "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 "
                  "iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual",
    "ISO-8859-8-I": "csiso88598i iso-8859-8-i logical",
    "ISO-8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "ISO-8859-13": "iso-8859-13 iso8859-13 iso885913",
    "ISO-8859-14": "iso-8859-14 iso8859-14 iso885914",
    "ISO-8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "ISO-8859-16": "iso-8859-16",
    "KOI8-R": "cskoi8r koi koi8 koi8-r koi8_r",
    "KOI8-U": "koi8-ru koi8-u",
    "macintosh": "csmacintosh mac macintosh x-mac-roman",
    "windows-874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "windows-1250": "cp1250 windows-1250 x-cp1250",
    "windows-1251": "cp1251 windows-1251 x-cp1251",
    "windows-1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 "
                    "iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 "
                    "us-ascii windows-1252 x-cp1252",
    "windows-1253": "cp1253 windows-1253 x-cp1253",
    "windows-1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 "
                    "iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    "windows-1255": "cp1255 windows-1255 x-cp1255",
    "windows-1256": "cp1256 windows-1256 x-cp1256",
    "windows-1257": "cp1257 windows-1257 x-cp1257",
    "windows-1258": "cp1258 windows-1258 x-cp1258",
    "x-mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "GBK": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk",
    "gb18030": "gb18030",
    "Big5": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "EUC-JP": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "ISO-2022-JP": "csiso2022jp iso-2022-jp",
    "Shift_JIS": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "EUC-KR": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 "
              "ksc5601 ksc_5601 windows-949",
    "replacement": "csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr replacement",
    "UTF-16BE": "unicodefffe utf-16be",
    "UTF-16LE": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
    "x-user-defined": "x-user-defined",
}

# The Python codec that decodes each encoding as the Standard's decoder does (for the
# multi-byte ones, the nearest: the wider codecs in _WIDER take what these refuse).
_PYTHON_CODEC: dict[str, str | None] = {
    "UTF-8": "utf-8", "IBM866": "cp866", "ISO-8859-8-I": "iso8859-8",
    "KOI8-R": "koi8-r", "KOI8-U": "koi8-u", "macintosh": "mac-roman",
    "windows-874": "cp874", "x-mac-cyrillic": "mac-cyrillic",
    "GBK": "gbk", "gb18030": "gb18030", "Big5": "big5hkscs", "EUC-JP": "euc_jp",
    "ISO-2022-JP": "iso2022_jp", "Shift_JIS": "cp932", "EUC-KR": "cp949",
    # The Standard decodes these to one U+FFFD so that a browser cannot be tricked into
    # running script; mail runs nothing, and RFC 1557 and RFC 1842 made ISO-2022-KR and
    # HZ mail charsets, so their labels get Python's real codecs (below).
    "replacement": None,
    "UTF-16BE": "utf-16-be", "UTF-16LE": "utf-16-le", "x-user-defined": "x-user-defined",
    **{f"ISO-8859-{n}": f"iso8859-{n}" for n in range(2, 17)},
    **{f"windows-{n}": f"cp{n}" for n in range(1250, 1259)},
}
_MAIL_LABELS = {"csiso2022kr": "iso2022_kr", "iso-2022-kr": "iso2022_kr", "hz-gb-2312": "hz",
                "viscii": "viscii", "csviscii": "viscii", "viscii1.1-1": "viscii",
                # Microsoft's names that Python lacks
                "windows-936": "gbk", "x-windows-949": "cp949", "windows-950": "cp950",
                "x-windows-950": "cp950", "windows-932": "cp932"}
# Labels that are not the Standard's but name a Python codec of the same charset: read as
# the Standard reads that charset's own labels.
_WHATWG_EQUIVALENT = {"ascii": "cp1252", "latin-1": "cp1252", "iso8859-1": "cp1252",
                      "iso8859-9": "cp1254", "iso8859-11": "cp874", "tis-620": "cp874",
                      "gb2312": "gbk", "big5": "big5hkscs", "shift_jis": "cp932",
                      "euc_kr": "cp949", "utf-16": "utf-16-le", "utf-8-sig": "utf-8"}
# Python codecs that are not charsets, or that interpret the text (a label may not do that)
_NOT_CHARSETS = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined",
                 "mbcs", "oem", "charmap"}
_SINGLE_BYTE = {"cp866", "koi8-r", "koi8-u", "mac-roman", "cp874", "mac-cyrillic", "viscii",
                *(f"iso8859-{n}" for n in range(2, 17)), *(f"cp{n}" for n in range(1250, 1259))}


def label_key(label: str) -> str:
    """A label as the table knows it: no case, surrounding blanks or quotes, nor an RFC 2231
    language suffix (`utf-8*en`)."""
    return label.strip("\t\n\f\r \"'").split("*", 1)[0].lower()


@lru_cache(maxsize=1024)
def _codec(label: str) -> str | None:
    """Once per distinct label: labels repeat, and an attacker's endless new ones only
    churn a bounded cache."""
    key = label_key(label)
    if key in _BY_LABEL:
        name = _BY_LABEL[key]
    elif key in _MAIL_LABELS:
        name = _MAIL_LABELS[key]
    else:
        try:
            info = codecs.lookup(key)
        except LookupError:
            return None
        if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
            return None
        name = _WHATWG_EQUIVALENT.get(info.name, info.name)
    return codecs.lookup(name).name if name is not None else None


def codec_for(label: str | None) -> str | None:
    """The Python codec that reads text labelled `label` as the WHATWG Encoding Standard
    (browsers, mail readers) reads it; a Python codec for mail labels the Standard lacks
    (`utf-7`, `iso-2022-jp-2`, `iso-2022-kr`, `viscii`); None for labels of no charset
    (`x-unknown`). Case and surrounding whitespace do not matter."""
    return _codec(label) if label else None


_BY_LABEL: dict[str, str | None] = {
    label: _PYTHON_CODEC[encoding]
    for encoding, labels in WHATWG_LABELS.items() for label in labels.split()
}
_BY_LABEL.update({k: v for k, v in _MAIL_LABELS.items() if k in _BY_LABEL})  # ISO-2022-KR, HZ


def _charmap(name: str, table: str) -> codecs.CodecInfo:
    encoding = codecs.charmap_build(table)

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return codecs.charmap_encode(text, errors, encoding)

    def decode(data: ReadableBuffer, errors: str = "strict") -> tuple[str, int]:
        return codecs.charmap_decode(data, errors, table)

    return codecs.CodecInfo(encode, decode, name=name)


def _viscii() -> str:
    """VISCII 1.1 (RFC 1456), the Vietnamese standard of the 1990s that Alpine still picks
    for mail with Vietnamese names: every Vietnamese letter precomposed, six of them on C0
    positions. Python has no codec for it. The high half in byte order, as tabulated in
    RFC 1456 (cross-checked with iconv-lite's table, MIT)."""
    low = [chr(b) for b in range(128)]
    for byte, letter in {0x02: "Ẳ", 0x05: "Ẵ", 0x06: "Ẫ", 0x14: "Ỷ", 0x19: "Ỹ", 0x1E: "Ỵ"}.items():
        low[byte] = letter
    return "".join(low) + (
        "ẠẮẰẶẤẦẨẬẼẸẾỀỂỄỆỐỒỔỖỘỢỚỜỞỊỎỌỈỦŨỤỲÕắằặấầẩậẽẹếềểễệốồổỗỠƠộờởịỰỨỪỬơớƯ"
        "ÀÁÂÃẢĂẳẵÈÉÊẺÌÍĨỳĐứÒÓÔạỷừửÙÚỹỵÝỡưàáâãảăữẫèéêẻìíĩỉđựòóôõỏọụùúũủýợỮ")


# Codecs Python lacks, registered so that `bytes.decode(name)` works like any other:
# x-user-defined (the Standard's: ASCII, and each high byte b to the private-use
# U+F700 + b, so binary read as text survives) and VISCII.
_EXTRA_CODECS = {
    "x-user-defined": _charmap("x-user-defined", "".join(
        chr(b if b < 0x80 else 0xF700 + b) for b in range(256))),
    "viscii": _charmap("viscii", _viscii()),
}


def _search(name: str) -> codecs.CodecInfo | None:
    return _EXTRA_CODECS.get(name.replace("_", "-"))


codecs.register(_search)


def _c1_controls(error: UnicodeError) -> tuple[str, int]:
    """The Standard's windows-125x give the bytes Microsoft left undefined (0x81, 0x8D,
    0x8F, 0x90, 0x9D in windows-1252) to the C1 controls of the same number; Python's
    codecs refuse them."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    byte = error.object[error.start]
    return (chr(byte) if 0x80 <= byte <= 0x9F else "\ufffd"), error.start + 1


codecs.register_error("whatwg-c1", _c1_controls)


def _iso2022jp_as_cp932(payload: bytes) -> str:
    """ISO-2022-JP as the Standard reads it: its JIS X 0208 has the NEC and IBM rows (①,
    ㈱, Ⅲ, 髙) that Japanese mail is full of and Python's ISO-2022-JP codecs refuse. Each
    two-byte run becomes its Shift_JIS bytes, read as cp932, whose rows are the
    Standard's."""
    out: list[str] = []
    mode = b"(B"
    for n, piece in enumerate(re.split(rb"\x1b(\$[@B]|\([BJI])", payload)):
        if n % 2:
            mode = piece
        elif mode == b"(I":  # half-width katakana, the Shift_JIS single bytes 0xA1-0xDF
            out.append(bytes(b | 0x80 for b in piece).decode("cp932"))
        elif mode in (b"$@", b"$B"):  # a line end ends the run (RFC 1468 asks for ESC ( B)
            run, newline, rest = piece.partition(b"\n")
            out.append(_jis_to_sjis(run.removesuffix(b"\r")).decode("cp932"))
            out.append(("\r" if run.endswith(b"\r") else "") + newline.decode("ascii")
                       + rest.decode("ascii"))
        else:
            out.append(piece.decode("ascii"))
    return "".join(out)


def _jis_to_sjis(pairs: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(pairs) - 1, 2):
        j1, j2 = pairs[i], pairs[i + 1]
        if not (0x21 <= j1 <= 0x7E and 0x21 <= j2 <= 0x7E):
            raise UnicodeDecodeError("iso2022_jp", pairs, i, i + 2, "not JIS X 0208")
        out.append((j1 + 1) // 2 + (0x70 if j1 <= 0x5E else 0xB0))
        out.append(j2 + (0x1F + (j2 >= 0x60) if j1 % 2 else 0x7E))
    if len(pairs) % 2:
        raise UnicodeDecodeError("iso2022_jp", pairs, len(pairs) - 1, len(pairs), "odd")
    return bytes(out)


def _reader(codec: str) -> Callable[[bytes], str]:
    return lambda payload: payload.decode(codec)


# What each codec's label may hold that the codec refuses, read by the wider codec that
# takes it: the Standard's GBK decoder is its gb18030 decoder; Big5 mail from Taiwan
# carries Microsoft's cp950 additions (€ at A3E1); EUC-JP mail the NEC rows.
_WIDER: dict[str, Callable[[bytes], str]] = {
    "gbk": _reader("gb18030"),
    "big5hkscs": _reader("cp950"),
    "iso2022_jp": _iso2022jp_as_cp932,
    "euc_jp": _reader("euc_jis_2004"),
    "cp932": _reader("shift_jis_2004"),
}


def decode_wider(codec: str, payload: bytes) -> str | None:
    """The text under `codec`'s wider reading, or None if there is none or it fails too."""
    reader = _WIDER.get(codec)
    if reader is None:
        return None
    try:
        return reader(payload)
    except UnicodeDecodeError:
        return None


def decode_leniently(codec: str, payload: bytes) -> str:
    """What a browser shows for `codec`: each byte it cannot read becomes U+FFFD, but
    windows-125x give their unassigned bytes to C1 controls as the Standard says."""
    return payload.decode(codec, "whatwg-c1" if codec in _SINGLE_BYTE else "replace")
