"""The new text of a reply, without the quoted earlier messages and the signature.

`mail-parser-reply` (maintained, multi-language) does the work; it knows no Vietnamese, so
the Vietnamese clients' patterns are registered with it here: Gmail's
`Vào Th 2, 23 thg 11, 2026 lúc 10:00 Hỗ trợ <hotro@...> đã viết:`, Outlook's
`Từ: / Đã gửi: / Đến: / Chủ đề:` block, and the usual sign-offs (`Trân trọng`, `Thân ái`).
The full original is always kept beside the trimmed text.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE

MAIL_LANGUAGES.setdefault("vi", {
    "wrote_header": (r"^(" + QUOTED_MATCH_INCLUDE
                     + r"(?:Vào|Vao)\s(?:.+?\s?.+?)\s?(?:đã viết|da viet)\s?:)$"),
    "from_header": (r"((?:(?:^|\n|\n" + QUOTED_MATCH_INCLUDE
                    + r")[* ]*(?:Từ|Đã gửi|Gửi|Đến|Tới|Chủ đề|Ngày|Cc|Tu|Da gui|Den|Chu de)"
                    r":[ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})"),
    "disclaimers": [r"(?:Lưu ý|Tuyên bố miễn trừ|Thông tin bảo mật)\s*:"],
    "signatures": ["Trân trọng", "Tran trong", "Thân ái", "Than ai", "Cảm ơn và trân trọng",
                   "Best regards", "Kind regards", "Regards,", "Thanks,"],
    "sent_from": r"Gửi từ (?:iPhone|điện thoại|Samsung|thiết bị)|Được gửi từ|Sent from my",
})

_PARSER = EmailReplyParser(languages=["vi", "en"])
# Only text with one of these can have anything to trim; the parser's regular expressions
# cost a third of a millisecond a message, so plain new mail skips them. Substrings of the
# lower-cased text first (a regular expression with this many alternatives is 6x slower),
# then what must start a line.
_MAYBE_QUOTED_WORDS = ("wrote:", "viết", "viet", "-----", "_____", "trân trọng", "tran trong",
                       "thân ái", "regards", "thanks,", "sent from", "gửi từ", "được gửi từ")
_MAYBE_QUOTED_LINE = re.compile(
    r"^\s*(?:>|(?:From|Từ|Tu|Sent|Đã gửi)\s*:)|^--\s*$", re.IGNORECASE | re.MULTILINE)
_QUOTED_TAIL = re.compile(r"(?:\n>.*)+\s*$")


def latest_reply(text: str) -> str:
    """The part of `text` the sender just wrote; the whole text if nothing is quoted."""
    if not text.strip():
        return ""
    lowered = text.lower()
    if not (any(word in lowered for word in _MAYBE_QUOTED_WORDS)
            or _MAYBE_QUOTED_LINE.search(text)):
        return text.strip()
    try:
        replies = _PARSER.read(text).replies
        reply = replies[0].body if replies else None
    except Exception:  # a parser failure must never lose the message
        reply = None
    new = (reply or text).strip()
    new = _QUOTED_TAIL.sub("", "\n" + new).strip()
    return new or text.strip()
