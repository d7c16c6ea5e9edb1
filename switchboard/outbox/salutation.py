"""How to address a customer by name, the Vietnamese way: "anh Minh", "chị Lan", and
"quý khách" when we cannot tell (in English "Mr Minh", "Ms Lan", "valued customer").

Vietnamese names are written family name first and given name last ("Nguyễn Thị Lan"); a
customer is addressed by the given name with the form of address for their sex. The sex is
inferred, never guessed wildly:

* a middle name "Thị" says a woman; "Văn", "Hữu", "Đức", "Công" say a man;
* else the given name, from lists of given names that are clearly female or clearly male
  (names borne by both, such as "Anh", "Thanh", "Bình", "Khánh", are on neither list);
* a name written without diacritics ("Nguyen Thi Lan") is matched without them, except
  where dropping the marks makes a female and a male name alike ("Hoa"/"Hòa").

Platforms often show names family name last ("Lan Nguyễn"): when the last word is a
common family name and the first is not, the first word is the given name. A "name" that is
not a person's (digits, an email, emoji, a shop's name of many words) gets the neutral form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from router.text import fold


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEUTRAL_VI = "quý khách"
NEUTRAL_EN = "valued customer"
FAMILY_NAMES = _words("""nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương
    lý đinh đoàn lâm mai trịnh trương cao lưu tô hà tạ thái châu quách""")
FEMALE_MIDDLE = frozenset({"thị"})
MALE_MIDDLE = frozenset({"văn", "hữu", "đức", "công"})
FEMALE_GIVEN = _words("""lan hương hoa mai linh trang thảo ngọc nhung hằng phương huyền yến
    nga vy hạnh loan oanh chi my nhi quyên trinh uyên vân thúy thủy hiền dung diễm duyên kiều
    liên ly nguyệt nhàn hồng cúc đào lệ như quỳnh thư trâm tuyết ánh diệu hân huệ lam ngân
    phượng sương thắm thơ tiên trà vi hoài giao thoa xuyến""")
MALE_GIVEN = _words("""minh hùng dũng tuấn hải nam long quân phong sơn thắng tùng cường đức
    hiếu hoàng huy khoa kiên lâm lộc luân mạnh nghĩa phúc quang tài thành thịnh tiến toàn
    trung việt vinh vũ công đạt định đông duy hiển hiệp hưng khải khang kiệt lực nhân phát
    quốc sang tân thái thiện thông tín trí trọng trường vương đăng bách chiến chính cảnh
    hoàn huân khôi lợi nhật phước quý hậu thuận tường""")
UNISEX_GIVEN = _words("""anh thanh bình khánh hòa hoà tâm xuân giang tú dương châu an hà
    kim thu""")  # on neither list; their unmarked spellings decide nothing
_FOLDED_BOTH = ({fold(n) for n in FEMALE_GIVEN} & {fold(n) for n in MALE_GIVEN}) | \
    {fold(n) for n in UNISEX_GIVEN}
_FOLDED_FEMALE = {fold(n) for n in FEMALE_GIVEN} - _FOLDED_BOTH
_FOLDED_MALE = {fold(n) for n in MALE_GIVEN} - _FOLDED_BOTH
_FOLDED_FAMILY = {fold(n) for n in FAMILY_NAMES}
_NAME_WORD = re.compile(r"^[^\W\d_]+$")  # letters only (Vietnamese ones included)


@dataclass(frozen=True, slots=True)
class Address:
    sex: str | None  # "f", "m", or None when we cannot tell
    given: str | None  # the name to address them by, e.g. "Lan"

    def vi(self) -> str:
        if not self.given:
            return NEUTRAL_VI
        form = {"f": "chị", "m": "anh"}.get(self.sex or "", "anh/chị")
        return f"{form} {self.given}"

    def en(self) -> str:
        if not self.given:
            return NEUTRAL_EN
        form = {"f": "Ms ", "m": "Mr "}.get(self.sex or "", "")
        return f"{form}{self.given}"


def _capitalised(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def _sex(words: list[str], given: str) -> str | None:
    plain = all(w.isascii() for w in words)
    middle = words[1:-1] if len(words) > 2 else []
    for word in middle:
        if word in FEMALE_MIDDLE or (plain and word == "thi"):
            return "f"
        if word in MALE_MIDDLE or (plain and word in {fold(m) for m in MALE_MIDDLE}):
            return "m"
    if plain:  # written without marks: only what the marks could not have told apart
        female, male = given in _FOLDED_FEMALE, given in _FOLDED_MALE
    else:
        female, male = given in FEMALE_GIVEN, given in MALE_GIVEN
    return "f" if female else "m" if male else None


def address_of(name: str | None) -> Address:
    """The form of address for a customer's name as the platform gave it."""
    text = unicodedata.normalize("NFC", " ".join((name or "").split()))
    words = [w.lower() for w in text.split(" ") if w]
    if not words or len(words) > 5 or not all(_NAME_WORD.match(w) for w in words):
        return Address(None, None)
    if len(words) == 1 and fold(words[0]) in _FOLDED_FAMILY:
        return Address(None, None)  # a family name alone: "anh/chị Nguyễn" would jar
    if len(words) >= 2 and fold(words[-1]) in _FOLDED_FAMILY and \
            fold(words[0]) not in _FOLDED_FAMILY:
        words = [words[-1], *words[:-1]]  # "Lan Nguyễn": family name written last
    given = words[-1]
    return Address(_sex(words, given), _capitalised(given))


def salutation(name: str | None, lang: str) -> str:
    address = address_of(name)
    return address.en() if lang == "en" else address.vi()
