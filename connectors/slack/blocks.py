"""Block Kit for the ticket message agents work from: everything about the ticket at a
glance, and its buttons. Rendered from plain dictionaries (the ticket and the customer as
the API shows them), so what Slack shows is always the ticket's state at send time.

Texts are Vietnamese first with English after a slash, like the templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SLA_COLOURS = {"none": "#b0b7c3", "yellow": "#f2c744", "red": "#e01e5a"}
SLA_LABELS = {"none": "trong hạn / on time", "yellow": "sắp trễ / due soon",
              "red": "trễ hạn / late"}
CATEGORY_OPTIONS = ("product", "supplier", "service/delivery", "service/payment",
                    "service/account", "service/other", "supplier_platform", "inquiry")
PRIORITY_OPTIONS = ("low", "normal", "high", "urgent")
STATUS_OPTIONS = (("open", "Bên mình xử lý / with us"),
                  ("pending_customer", "Chờ khách / waiting on the customer"),
                  ("pending_supplier", "Chờ NCC / waiting on the supplier"),
                  ("pending_carrier", "Chờ đơn vị vận chuyển / waiting on the carrier"))
MAX_TEXT = 2800  # a section's text is limited to 3,000 characters


def _text(value: str, limit: int = MAX_TEXT) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value if len(value) <= limit else value[:limit - 1] + "…"


def _option(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": (label or value)[:75]}, "value": value}


def _select(action_id: str, placeholder: str, options: Sequence[tuple[str, str]]
            ) -> dict[str, Any]:
    return {"type": "static_select", "action_id": action_id,
            "placeholder": {"type": "plain_text", "text": placeholder},
            "options": [_option(v, label) for v, label in options]}


def _button(action_id: str, text: str, value: str, style: str | None = None
            ) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                              "text": {"type": "plain_text", "text": text}}
    if style:
        button["style"] = style
    return button


def ticket_card(ticket: Mapping[str, Any], customer: Mapping[str, Any] | None,
                departments: Mapping[str, str], assignee_mention: str | None,
                supplier_name: str | None = None, macros: Sequence[tuple[str, str]] = ()
                ) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, attachments) for chat.postMessage / chat.update: the blocks sit in an
    attachment so the SLA level colours its edge."""
    ref = ticket["ref"]
    ticket_value = str(ticket["id"])
    first = next((m for m in ticket.get("messages", []) if m["direction"] == "in"), None)
    level = ticket.get("sla_level", "none")
    status = ticket["status"]
    channel = ticket.get("channel_label") or ticket["channel"]
    if status == "bot_answered":
        return _bot_line(ref, ticket_value, channel, _customer_line(customer),
                         _text(first["text"], 300) if first else "")
    head = (f"*{ref}* · {channel} · {status} · ưu tiên / priority {ticket['priority']} · "
            f"SLA {SLA_LABELS.get(level, level)}")
    who = _customer_line(customer)
    classification = ticket["category"] + (f"/{ticket['topic']}" if ticket.get("topic") else "")
    if ticket.get("supplier_id"):
        classification += f" · NCC / supplier {ticket['supplier_id']}"
        if supplier_name:
            classification += f" ({_text(supplier_name, 80)})"
    classification += f" · độ tin cậy / confidence {ticket['confidence']:.2f}"
    if ticket.get("rules"):
        classification += " · " + ", ".join(ticket["rules"][:8])
    department = departments.get(ticket["department"], ticket["department"])
    owner = assignee_mention or "chưa ai nhận / unassigned"
    if ticket.get("assigned_supplier_id"):
        owner += f" · NCC đang xử lý / with supplier {ticket['assigned_supplier_id']}"
    due = ticket.get("sla_due") or {}
    due_line = " · ".join(f"{name} {when}" for name, when in due.items()) or \
        "không có mốc SLA / no SLA targets"
    if ticket.get("sla_acknowledged"):
        due_line += " · quản lý đã nắm / acknowledged"
    subject = f"*{_text(ticket['subject'], 200)}*\n" if ticket.get("subject") else ""
    body = _text(first["text"]) if first else ""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": head}},
        {"type": "section", "text": {"type": "mrkdwn", "text": who}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": f"{subject}>{body.replace(chr(10), chr(10) + '>')}"}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"🏷 {classification}"},
            {"type": "mrkdwn", "text": f"🏢 {department} · 🙋 {owner}"},
            {"type": "mrkdwn", "text": f"⏱ {due_line}"}]},
    ]
    closed = status in ("resolved", "closed")
    buttons = [_button("sb_reply", "Trả lời khách / Reply to customer", ticket_value,
                       "primary")]
    if not closed:
        buttons.append(_button("sb_assign_me", "Tôi nhận / Assign to me", ticket_value))
        if ticket.get("supplier_id") and not ticket.get("assigned_supplier_id"):
            buttons.append(_button("sb_supplier", "Giao NCC / Hand to supplier", ticket_value))
        buttons.append(_button("sb_organise", "Gộp · Tách · Liên kết / Merge · Split · Link",
                               ticket_value))
        buttons.append(_button("sb_resolve", "Đã xử lý / Resolve", ticket_value, "danger"))
    else:
        buttons.append(_button("sb_reopen", "Mở lại / Reopen", ticket_value))
    if level == "red" and not closed and not ticket.get("sla_acknowledged"):
        buttons.append(_button("sb_ack", "Quản lý đã nắm / Acknowledge", ticket_value))
    blocks.append({"type": "actions", "block_id": f"ticket-{ticket_value}-buttons",
                   "elements": buttons})
    if not closed:
        blocks.append({"type": "actions", "block_id": f"ticket-{ticket_value}-menus",
                       "elements": [
            _select("sb_transfer", "Chuyển / Transfer",
                    [(f"{ticket_value}:{key}", name) for key, name in departments.items()
                     if key != ticket["department"]]),
            _select("sb_category", "Phân loại lại / Reclassify",
                    [(f"{ticket_value}:{c}", c) for c in CATEGORY_OPTIONS]),
            _select("sb_priority", "Ưu tiên / Priority",
                    [(f"{ticket_value}:{p}", p) for p in PRIORITY_OPTIONS]),
            _select("sb_status", "Ai đang giữ / Waiting on",
                    [(f"{ticket_value}:{v}", label) for v, label in STATUS_OPTIONS
                     if v != status]),
            *([_select("sb_macro", "Macro", [(f"{ticket_value}:{name}", (title or name)[:75])
                                             for name, title in macros])] if macros else [])]})
    fallback = f"{ref}: {ticket['category']} · {channel} · {_text(body, 150)}"
    return fallback, [{"color": SLA_COLOURS.get(level, SLA_COLOURS["none"]), "blocks": blocks,
                       "fallback": fallback}]


def _bot_line(ref: str, ticket_value: str, channel: str, who: str, asked: str
              ) -> tuple[str, list[dict[str, Any]]]:
    """The compact line of a ticket the bot answered: no clock runs and nobody is offered
    it; a person may still answer (which hands it to people)."""
    text = (f"🤖 *{ref}* · {channel} · bot đã trả lời / answered by the bot\n{who}\n"
            f">{asked.replace(chr(10), ' ')}")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text},
               "accessory": _button("sb_reply", "Trả lời / Reply", ticket_value)}]
    return f"{ref}: answered by the bot", [{"color": SLA_COLOURS["none"], "blocks": blocks,
                                            "fallback": f"{ref}: answered by the bot"}]


def _customer_line(customer: Mapping[str, Any] | None) -> str:
    if customer is None:
        return "👤 khách chưa rõ / unknown customer"
    name = _text(customer.get("name") or "khách / customer", 80)
    kind = "khách quen / returning" if customer.get("returning") else "khách mới / new"
    parts = [f"👤 *{name}* · {kind}"]
    if customer.get("tier"):
        parts.append(f"hạng / tier {customer['tier']}")
    ids = [i["value"] for i in customer.get("identities", [])][:4]
    if ids:
        parts.append(", ".join(_text(v, 80) for v in ids))
    earlier = [t["ref"] for t in customer.get("tickets", [])[1:6]]
    if earlier:
        parts.append("trước đây / earlier: " + ", ".join(earlier))
    return " · ".join(parts)


def moved_card(ref: str, channel_id: str, reason: str) -> tuple[str, list[dict[str, Any]]]:
    text = f"*{ref}* ➡️ đã chuyển sang / moved to <#{channel_id}> ({_text(reason, 200)})"
    return text, [{"color": SLA_COLOURS["none"], "fallback": text,
                   "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}]


def customer_message(author: str, label: str, text: str) -> str:
    """`label` names the channel for people (the channel registry's label)."""
    return f"💬 *{_text(author, 80)}* ({label}):\n{_text(text)}"


def transcript(messages: Sequence[Mapping[str, Any]], limit: int = 30) -> str:
    """A ticket's history for the thread of the card it was transferred to."""
    lines = []
    for m in messages[-limit:]:
        arrow = "💬" if m["direction"] == "in" else "↩️"
        lines.append(f"{arrow} *{_text(str(m['author']), 60)}*: {_text(m['text'], 300)}")
    skipped = len(messages) - limit
    head = "Lịch sử / History" + (f" (30 tin gần nhất / last 30 of {len(messages)})"
                                   if skipped > 0 else "")
    return _text(head + "\n" + "\n".join(lines), 2900)


MAX_OPTIONS = 100  # a static_select's limit


def reply_modal(ticket_value: str, ref: str, label: str,
                saved: Sequence[tuple[str, str]] = (), *, text: str = "",
                chosen: str | None = None, note: str = "", text_block: str = "reply"
                ) -> dict[str, Any]:
    """The *Reply to customer* form. With `saved` replies (code, title), a *Saved reply*
    menu comes first: picking one sends `sb_saved_pick` and the form comes back with the
    message filled in (`text`, under a new `text_block`: Slack keeps what was typed in a
    block it has seen) or with why it could not be (`note`)."""
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text":
            f"Gửi cho khách qua {label} / goes to the customer by {label}"}]}]
    if saved:
        menu = _select("sb_saved_pick", "Chọn mẫu / Choose one",
                       [(code, f"{code} — {title}") for code, title in saved[:MAX_OPTIONS]])
        picked = [o for o in menu["options"] if o["value"] == chosen]
        if picked:
            menu["initial_option"] = picked[0]
        blocks.append({"type": "input", "block_id": "saved", "optional": True,
                       "dispatch_action": True, "element": menu,
                       "label": {"type": "plain_text", "text": "Trả lời mẫu / Saved reply"},
                       "hint": {"type": "plain_text", "text": "Điền sẵn nội dung bên dưới, "
                                "sửa được trước khi gửi / fills in the message below; edit "
                                "it before sending if you like"}})
        if note:
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"⚠️ {_text(note, 1900)}"}]})
    box: dict[str, Any] = {"type": "plain_text_input", "action_id": "text",
                           "multiline": True, "max_length": 3000}
    if text:
        box["initial_value"] = text[:3000]
    blocks.append({"type": "input", "block_id": text_block, "optional": bool(saved),
                   "label": {"type": "plain_text", "text": "Nội dung / Message"},
                   "element": box})
    return {
        "type": "modal", "callback_id": "sb_reply_modal", "private_metadata": ticket_value,
        "title": {"type": "plain_text", "text": f"Trả lời {ref}"[:24]},
        "submit": {"type": "plain_text", "text": "Gửi / Send"},
        "close": {"type": "plain_text", "text": "Huỷ / Cancel"},
        "blocks": blocks,
    }


def text_with_buttons(text: str, buttons: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """A thread line with buttons under it (a supplier's proposal: approve or reject)."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": _text(text)}},
            {"type": "actions", "elements": [
                _button(action_id, label, value, style or None)
                for action_id, value, label, style in buttons]}]


ORGANISE_CHOICES = (("merge", "Gộp phiếu này vào phiếu kia / Merge this into the other"),
                    ("parent", "Phiếu kia là phiếu cha / The other is its parent"),
                    ("child", "Phiếu kia là phiếu con / The other is its child"),
                    ("related", "Liên quan / Related"),
                    ("split", "Tách tin nhắn ra phiếu mới / Split a message out"))


def organise_modal(ticket_value: str, ref: str,
                   messages: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """The *Merge · Split · Link* form behind the card's button: what to do, the other
    ticket (merge, link) or the customer's message to split out (offered only when the
    ticket has more than one)."""
    choices = [c for c in ORGANISE_CHOICES if messages or c[0] != "split"]
    blocks: list[dict[str, Any]] = [
        {"type": "input", "block_id": "what", "label": {"type": "plain_text",
                                                        "text": "Việc / What"},
         "element": {"type": "radio_buttons", "action_id": "what",
                     "options": [_option(v, label) for v, label in choices]}},
        {"type": "input", "block_id": "other", "optional": True,
         "label": {"type": "plain_text", "text": "Phiếu kia / Other ticket"},
         "hint": {"type": "plain_text", "text": "ví dụ / e.g. MC-9 (gộp, liên kết / merge, "
                                                "link)"},
         "element": {"type": "plain_text_input", "action_id": "ref", "max_length": 40}}]
    if messages:
        blocks.append({"type": "input", "block_id": "message", "optional": True,
                       "label": {"type": "plain_text", "text": "Tin nhắn / Message (tách / "
                                                               "split)"},
                       "element": _select("message", "Chọn tin nhắn / Choose one",
                                          [(v, label) for v, label in messages[:MAX_OPTIONS]])})
    return {"type": "modal", "callback_id": "sb_organise_modal",
            "private_metadata": ticket_value,
            "title": {"type": "plain_text", "text": f"Sắp xếp {ref}"[:24]},
            "submit": {"type": "plain_text", "text": "Làm / Do it"},
            "close": {"type": "plain_text", "text": "Huỷ / Cancel"}, "blocks": blocks}
