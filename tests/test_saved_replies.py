"""Saved replies: the texts render in Vietnamese and English with every variable present and
each one missing (a clear error naming it, never a half-filled text), customers are
addressed the Vietnamese way, and a bad file is refused naming the file and the problem."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.desk.saved_reply import agent_name
from switchboard.outbox.salutation import salutation
from switchboard.outbox.saved_replies import (
    Facts,
    MissingVariable,
    ReplyFileError,
    SavedReplies,
    UnknownReply,
    load_directory,
    replies_dir,
)
from switchboard.settings import AgentSettings, Settings

SHIPPED = replies_dir(None)
FULL = Facts(ticket_ref="MC-12", customer_name="Nguyễn Thị Lan", order_code="DH25220868",
             order_product="Tai nghe Bluetooth", supplier_name="Sen Tây Hồ",
             deadline=datetime(2026, 11, 24, 9, 30, tzinfo=UTC), agent_name="Minh")
BARE = Facts(ticket_ref="MC-12", agent_name="Minh")

TEMPLATE = """\
- code: everything
  title: Mọi biến / Every variable
  vi: "{{ customer.salutation }}|{{ customer.name }}|{{ ticket.ref }}|{{ order.code }}|\
{{ order.product }}|{{ supplier.name }}|{{ deadline }}|{{ agent.name }}"
  en: "{{ customer.salutation }}|{{ customer.name }}|{{ ticket.ref }}|{{ order.code }}|\
{{ order.product }}|{{ supplier.name }}|{{ deadline }}|{{ agent.name }}"
- code: optional_order
  title: Đơn nếu có / Order if any
  vi: "Chào {{ customer.salutation }}{% if order %}, đơn {{ order.code }}{% endif %}."
  en: "Dear {{ customer.salutation }}{% if order %}, order {{ order.code }}{% endif %}."
"""


def library(tmp_path: Path, text: str = TEMPLATE, name: str = "test.yaml") -> SavedReplies:
    folder = tmp_path / "replies"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return SavedReplies(folder)


@pytest.mark.parametrize(("name", "vi", "en"), [
    ("Nguyễn Thị Lan", "chị Lan", "Ms Lan"),  # the middle name Thị
    ("Trần Văn Nam", "anh Nam", "Mr Nam"),  # the middle name Văn
    ("Lê Minh", "anh Minh", "Mr Minh"),  # a male given name
    ("Phạm Hương", "chị Hương", "Ms Hương"),  # a female given name
    ("Nguyen Thi Lan", "chị Lan", "Ms Lan"),  # typed without diacritics
    ("Lan Nguyễn", "chị Lan", "Ms Lan"),  # family name last, as platforms show it
    ("Pham Hoa", "anh/chị Hoa", "Hoa"),  # Hoa or Hòa: the marks would have told
    ("Hoàng Anh", "anh/chị Anh", "Anh"),  # a name borne by both
    ("Minh", "anh Minh", "Mr Minh"),
    (None, "quý khách", "valued customer"),
    ("", "quý khách", "valued customer"),
    ("Nguyễn", "quý khách", "valued customer"),  # a family name alone
    ("lan.nguyen@gmail.com", "quý khách", "valued customer"),  # not a person's name
    ("Shop Mẹ Bắp 123", "quý khách", "valued customer"),
])
def test_salutations(name: str | None, vi: str, en: str) -> None:
    assert salutation(name, "vi") == vi
    assert salutation(name, "en") == en


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_variable_present(tmp_path: Path, lang: str) -> None:
    rendered = library(tmp_path).render("everything", FULL, lang)
    salute = "chị Lan" if lang == "vi" else "Ms Lan"
    assert rendered.text == (f"{salute}|Nguyễn Thị Lan|MC-12|DH25220868|Tai nghe Bluetooth|"
                             "Sen Tây Hồ|24/11 16:30|Minh")  # the deadline in Asia/Ho_Chi_Minh
    assert (rendered.code, rendered.lang) == ("everything", lang)


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize(("missing", "variable"), [
    ({"customer_name": None}, "customer.name"),
    ({"order_code": None}, "order.code"),
    ({"order_product": None}, "order.product"),
    ({"supplier_name": None}, "supplier.name"),
    ({"deadline": None}, "deadline"),
    ({"agent_name": None}, "agent.name"),
])
def test_each_variable_missing_refuses_the_whole_reply(tmp_path: Path, lang: str,
                                                       missing: dict[str, None],
                                                       variable: str) -> None:
    facts = Facts(**{**{f: getattr(FULL, f) for f in Facts.__dataclass_fields__}, **missing})
    with pytest.raises(MissingVariable) as caught:
        library(tmp_path).render("everything", facts, lang)
    assert caught.value.variable == variable
    assert variable in str(caught.value) and "nothing was sent" in str(caught.value)


def test_a_test_makes_a_variable_optional_and_the_salutation_falls_back(tmp_path: Path) -> None:
    replies = library(tmp_path)
    assert replies.render("optional_order", FULL, "vi").text == "Chào chị Lan, đơn DH25220868."
    assert replies.render("optional_order", BARE, "vi").text == "Chào quý khách."
    assert replies.render("optional_order", BARE, "en").text == "Dear valued customer."
    assert replies.render("optional_order", FULL, "fr").lang == "vi"  # Vietnamese by default


def test_unknown_code_names_it_and_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownReply, match="'nope'.*everything, optional_order"):
        library(tmp_path).render("nope", FULL, "vi")


def test_the_shipped_replies_load_and_render_in_both_languages() -> None:
    replies = SavedReplies(SHIPPED)
    codes = replies.codes()
    assert 8 <= len(codes) <= 12
    assert {"late_delivery", "refund_time", "voucher_how", "ask_order", "ask_photos",
            "to_supplier", "resolved", "hotline_hours"} <= set(codes)
    for code in codes:
        for lang, salute in (("vi", "chị Lan"), ("en", "Ms Lan")):
            text = replies.render(code, FULL, lang).text
            assert salute in text and "{{" not in text and "None" not in text
            try:  # with nothing but the ticket and the agent: complete, or refused whole
                bare = replies.render(code, BARE, lang).text
            except MissingVariable as exc:
                assert exc.variable in ("order.code", "order.product", "supplier.name",
                                        "deadline")
            else:
                assert ("quý khách" if lang == "vi" else "valued customer") in bare
    apology = replies.render("late_delivery", FULL, "vi").text
    assert "DH25220868" in apology and "24/11 16:30" in apology


@pytest.mark.parametrize(("text", "problem"), [
    ("- code: x\n  title: [", "not valid YAML"),
    ("- code: ab\n  title: T\n  vi: V\n", "missing en"),
    ("- code: ab\n  title: T\n  vi: V\n  en: E\n  vn: V\n", "unknown field vn"),
    ("- code: Refund Time\n  title: T\n  vi: V\n  en: E\n", "code 'Refund Time' must be"),
    ("- code: ab\n  title: '" + "x" * 80 + "'\n  vi: V\n  en: E\n", "title must be"),
    ("- code: ab\n  title: T\n  vi: V\n  en: ''\n", "en must be a text"),
    ("- code: ab\n  title: T\n  vi: '{{ customer.name'\n  en: E\n", "vi: line 1"),
    ("- code: ab\n  title: T\n  vi: '{{ cusomer.name }}'\n  en: E\n",
     "unknown variable cusomer"),
    ("- code: ab\n  title: T\n  vi: V\n  en: '{{ customer.nmae }}'\n",
     "customer.nmae is not a variable"),
    ("- code: ab\n  title: T\n  vi: '{{ customer.__class__ }}'\n  en: E\n",
     "(ab): vi: __class__ is not a variable"),  # the sandbox: values only
    ("- just a line\n", "expected code, title, vi and en"),
])
def test_a_bad_file_is_refused_naming_the_file_and_the_problem(tmp_path: Path, text: str,
                                                               problem: str) -> None:
    with pytest.raises(ReplyFileError) as caught:
        library(tmp_path, text, "broken.yaml")
    assert "broken.yaml" in str(caught.value) and problem in str(caught.value)


def test_duplicate_codes_are_refused_across_files(tmp_path: Path) -> None:
    library(tmp_path)
    (tmp_path / "replies" / "more.yaml").write_text(
        "- code: everything\n  title: T\n  vi: V\n  en: E\n", encoding="utf-8")
    with pytest.raises(ReplyFileError, match=r"test.yaml: code everything is used twice"
                                             r" \(also in .*more.yaml\)"):
        load_directory(tmp_path / "replies")


def test_no_folder_is_no_replies_and_one_reply_per_file_works(tmp_path: Path) -> None:
    assert SavedReplies(tmp_path / "none").codes() == []
    single = library(tmp_path, "code: alone\ntitle: T\nvi: 'Chào {{ customer.salutation }}'\n"
                               "en: 'Hi {{ customer.salutation }}'\n")
    assert single.render("alone", BARE, "vi").text == "Chào quý khách"


def test_the_folder_reloads_when_it_changes_and_a_broken_edit_keeps_the_last_good(
        tmp_path: Path) -> None:
    replies = library(tmp_path)
    path = tmp_path / "replies" / "test.yaml"
    path.write_text(TEMPLATE.replace("Chào {{", "Xin chào {{"), encoding="utf-8")
    os.utime(path, ns=(1, 2))  # a different stamp even within the clock's resolution
    assert replies.render("optional_order", BARE, "vi").text == "Xin chào quý khách."
    assert replies.problem is None
    path.write_text("- code: [", encoding="utf-8")
    assert replies.render("optional_order", BARE, "vi").text == "Xin chào quý khách."
    assert replies.problem is not None and "test.yaml: not valid YAML" in replies.problem
    (tmp_path / "replies" / "new.yaml").write_text(
        "- code: fresh\n  title: T\n  vi: V\n  en: E\n", encoding="utf-8")
    path.unlink()
    assert replies.codes() == ["fresh"] and replies.problem is None


def test_agents_sign_with_their_display_name(settings: Settings) -> None:
    named = settings.model_copy(update={"agents": (
        AgentSettings(name="lan", display_name="Nguyễn Lan"), AgentSettings(name="minh"))})
    assert agent_name(named, "lan") == "Nguyễn Lan"
    assert agent_name(named, "minh") == "minh"  # no display name: the name
    assert agent_name(named, "crm-bot") == "crm-bot"  # an API token that is no agent
