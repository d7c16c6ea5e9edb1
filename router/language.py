"""Vietnamese or English? For answering in the customer's language.

Vietnamese is told by its letters (ă â đ ê ô ơ ư and the tone marks) or, when typed without
them, by its most frequent words; anything else with more English function words than
Vietnamese ones is English. Vietnamese is the default: most customers write it.
"""

from __future__ import annotations

import re

_VI_LETTERS = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]",
                         re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
_VI_WORDS = frozenset("""khong duoc cua toi em anh chi minh shop don hang da chua roi nhe a
    voi cho la co nhung nay mua giao nhan bi tien ban oi vay sao""".split())
_EN_WORDS = frozenset("""the and is are was were my your i you it to of for in on not have has
    with this that please order received would could thanks hello hi""".split())


def detect_language(text: str) -> str:
    sample = text[:2000]
    if len(_VI_LETTERS.findall(sample)) >= 3:
        return "vi"
    words = _WORD.findall(sample.lower())
    english = sum(1 for w in words if w in _EN_WORDS)
    vietnamese = sum(1 for w in words if w in _VI_WORDS)
    return "en" if english > vietnamese else "vi"
