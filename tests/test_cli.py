"""The CLI as a user runs it: a real subprocess, a real config, a temporary database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CONFIG, DATA, ROOT


def sb(db: str, *args: str, stdin: str | bytes | None = None,
       check: bool = True) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run([sys.executable, "-m", "switchboard.cli", "--config", str(CONFIG),
                             "--db", db, *args], input=data, capture_output=True, cwd=ROOT,
                            check=False)
    out = subprocess.CompletedProcess(result.args, result.returncode,
                                      result.stdout.decode(), result.stderr.decode())
    if check and out.returncode != 0:
        raise AssertionError(f"exit {out.returncode}: {out.stderr}")
    return out


@pytest.fixture
def dburl(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    sb(url, "import", "suppliers", str(DATA / "classify" / "suppliers.csv"))
    sb(url, "import", "orders", str(DATA / "classify" / "orders.csv"))
    return url


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    from tickets import migrate

    head = migrate.head()
    assert f"schema empty → {head}" in sb(url, "migrate").stdout
    assert f"schema already at {head}" in sb(url, "migrate").stdout


def test_classify_writes_one_line_per_input(dburl: str) -> None:
    lines = [
        {"id": "1", "channel": "email", "from": "a@b.vn", "subject": "Đơn DH25220868",
         "text": "máy xay mua về dùng 2 ngày đã hỏng, không chạy nữa"},
        {"id": "2", "channel": "zalo", "from": "0912345678", "text": "cho em hỏi giờ mở cửa ạ"},
        {"id": "3", "channel": "fax", "from": "x", "text": "hi"},
        {"id": "4", "channel": "email", "from": "a@b.vn"},
    ]
    result = sb(dburl, "classify", stdin="\n".join(json.dumps(x) for x in lines) + "\nnot json\n",
                check=False)
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert result.returncode == 2
    assert set(out[0]) - {"model"} == {"id", "category", "topic", "supplier_id", "department",
                                       "confidence", "rules"}
    # the text model's opinion, where it was asked (a strong rule decides without it)
    assert all(set(o["model"]) == {"category", "probability", "terms"}
               for o in out[:2] if "model" in o)
    assert (out[0]["category"], out[0]["supplier_id"]) == ("product", "SUP022")
    assert (out[1]["category"], out[1]["department"]) == ("inquiry", "front_line")
    assert out[2] == {"line": 3, "id": "3", "error": "channel: unknown channel 'fax'; channels "
                      "are ['api', 'email', 'facebook_comment', 'messenger', 'phone', "
                      "'telegram', 'web_comment', 'zalo']"}
    assert out[3]["error"] == "text: is required"
    assert out[4]["error"].startswith("malformed JSON")


def test_ingest_then_list_and_show(dburl: str, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "m1", "channel": "messenger", "from": "555", "text": "Shipper chưa giao hàng"},
        {"id": "m2", "channel": "messenger", "from": "555", "text": "vẫn chưa thấy đâu"},
        {"id": "e1", "channel": "email", "from": "lan@gmail.com", "subject": "Voucher",
         "text": "nhà hàng Sen Tây Hồ không nhận voucher"},
    ]), encoding="utf-8")
    out = sb(dburl, "ingest", str(feed)).stdout
    assert "messenger m1: created MC-1 service/delivery" in out
    assert "messenger m2: joined MC-1" in out
    assert "3 lines: 2 created, 1 joined" in out
    again = sb(dburl, "ingest", str(feed)).stdout
    assert "3 lines: 3 duplicate" in again
    listed = [json.loads(x) for x in sb(dburl, "tickets", "list", "--json").stdout.splitlines()]
    assert [t["ref"] for t in listed] == ["MC-2", "MC-1"]
    assert set(listed[0]) == {"ref", "status", "channel", "category", "topic", "supplier_id",
                              "department", "customer_id", "sla_level", "subject", "created_at"}
    assert listed[0]["supplier_id"] == "SUP001" and listed[0]["created_at"].endswith("+07:00")
    shown = json.loads(sb(dburl, "tickets", "show", "MC-1", "--json").stdout)
    assert [m["text"] for m in shown["messages"]] == ["Shipper chưa giao hàng",
                                                      "vẫn chưa thấy đâu"]
    assert set(shown["messages"][0]) >= {"direction", "channel", "author", "text", "created_at",
                                         "attachments"}
    assert shown["journal"][0]["action"] == "created"
    assert "MC-1" in sb(dburl, "tickets", "show", "MC-1").stdout


def test_ingest_refuses_a_bad_file_whole(dburl: str, tmp_path: Path) -> None:
    feed = tmp_path / "bad.jsonl"
    feed.write_bytes(b'{"id": "ok", "channel": "email", "from": "a@b.vn", "text": "hi"}\n'
                     b'{"id": "x", "channel": "email", "from": "a@b.vn", "text": "\xff\xfe"}\n'
                     b'{"channel": "email", "from": "a@b.vn", "text": "no id"}\n')
    result = sb(dburl, "ingest", str(feed), check=False)
    assert result.returncode == 1
    assert "nothing ingested, 2 bad line(s)" in result.stderr
    assert "line 2: body is not valid UTF-8" in result.stderr
    assert "line 3: id is required" in result.stderr
    assert sb(dburl, "tickets", "list", "--json").stdout == ""


def test_import_error_names_line_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/i.db"
    bad = tmp_path / "s.csv"
    bad.write_text("supplier_id,name,aliases,emails,phones\nA,Shop A,,x@y,\n", encoding="utf-8")
    result = sb(url, "import", "suppliers", str(bad), check=False)
    assert result.returncode == 2
    assert "line 2: 'x@y' is not an email address" in result.stderr
    assert "nothing imported" in result.stderr


def test_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("timezone: Mars/Olympus\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "switchboard.cli", "--config", str(config),
                             "migrate"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "timezone: Value error, unknown time zone 'Mars/Olympus'" in result.stderr
