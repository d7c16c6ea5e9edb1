"""`switchboard rules replay`: tickets made by the real pipeline, replayed with a candidate
config, and the exact differences reported; the database untouched; bad input refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from switchboard.bootstrap import Runtime
from switchboard.cli.main import main
from switchboard.desk import actions as desk
from switchboard.insight import replay
from tests.conftest import CONFIG
from tests.helpers import deliver, message
from tickets.clock import ManualClock
from tickets.database import Database
from tickets.schema import metadata, tickets

# 23:30 on 23 November in Ho Chi Minh City, and 00:30 on the 24th: one UTC day, two local days
LATE_23RD = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
EARLY_24TH = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)


@pytest.fixture
def history(runtime: Runtime, catalog: Database, clock: ManualClock) -> Runtime:
    """Six tickets opened by the pipeline: MC-1 on the 23rd (local), MC-2..MC-6 on the 24th;
    a person reclassified MC-5; a follow-up turned MC-6 from a question into a complaint."""
    clock.set(LATE_23RD)
    deliver(runtime.pipeline, message("m1", "Shipper chưa giao hàng", sender="555",
                                      when=clock.now()))
    clock.set(EARLY_24TH)
    deliver(runtime.pipeline,
            message("e2", "hàng bị vỡ", channel="email", sender="a@b.vn",
                    subject="Đơn DH25220868", when=clock.now()),
            message("z3", "cho em hỏi giờ mở cửa ạ", channel="zalo", sender="0912345678",
                    when=clock.now()),
            message("t4", "em bị trừ tiền 2 lần khi thanh toán", channel="telegram",
                    sender="777", when=clock.now()),
            message("m5", "cái loa bị hỏng rồi", sender="888", when=clock.now()),
            message("m6", "cho em hỏi voucher dùng cuối tuần được không ạ", sender="999",
                    when=clock.now()))
    deliver(runtime.pipeline, message("m6b", "nhà hàng không nhận voucher, nhân viên thái độ",
                                      sender="999", when=clock.now()))
    with runtime.db.write() as conn:
        desk.reclassify(conn, runtime.settings, 5, "service", "other", "lan", clock.now())
    return runtime


@pytest.fixture
def candidate(tmp_path: Path, rules_only_config: Path) -> Path:
    """The shipped config with `product_broken` removed and late deliveries sent to
    customer care instead of logistics (the rules alone, as in `history`)."""
    data = yaml.safe_load(rules_only_config.read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if r["name"] != "product_broken"]
    data["routing"]["by_topic"]["delivery"] = "customer_care"
    path = tmp_path / "new.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


RULES_ONLY: list[Path] = []  # config.yaml with the rules alone, as the history was made


@pytest.fixture(autouse=True)
def _rules_only(rules_only_config: Path) -> None:
    RULES_ONLY[:] = [rules_only_config]


def sb(rt: Runtime, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(RULES_ONLY[0]), "--db",
                                     rt.settings.database.url, "rules", "replay", *args])


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "the database is unchanged" means."""
    with db.read() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
                for t in metadata.sorted_tables}


def test_the_pipeline_setup_is_what_the_replay_starts_from(history: Runtime) -> None:
    with history.db.read() as conn:
        rows = conn.execute(select(tickets.c.id, tickets.c.category, tickets.c.topic,
                                   tickets.c.department, tickets.c.assigned_supplier_id)
                            .order_by(tickets.c.id)).all()
    assert [tuple(r) for r in rows] == [
        (1, "service", "delivery", "logistics", None),
        (2, "product", None, "complaint_desk", "SUP022"),
        (3, "inquiry", None, "front_line", None),
        (4, "service", "payment", "payments", None),
        (5, "service", "other", "customer_care", None),  # the person's decision
        (6, "supplier", None, "complaint_desk", None),  # upgraded by the follow-up
    ]


def test_the_current_rules_change_nothing(history: Runtime) -> None:
    """Replaying the rules in force reproduces every decision the pipeline made, also for
    MC-6, whose follow-up changed the ticket: the comparison is with the rules' decision on
    the opening message, not with the ticket as it stands."""
    result = sb(history, "--since", "2026-11-23", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[0])
    assert summary["replayed"] == 6
    assert (summary["unchanged"], summary["changed"], summary["person_decided"]) == (5, 0, 1)


def test_candidate_rules_report_exactly_what_changes(history: Runtime, candidate: Path) -> None:
    result = sb(history, "--since", "2026-11-23", "--config", str(candidate), "--json")
    assert result.exit_code == 0, result.output
    summary, *items = [json.loads(line) for line in result.output.splitlines()]
    assert summary == {
        "type": "summary", "since": "2026-11-23", "until": None,
        "timezone": "Asia/Ho_Chi_Minh", "rules": str(candidate),
        "replayed": 6, "unchanged": 3, "changed": 2,
        "changed_by": {"category": 1, "topic": 0, "department": 2, "supplier": 1},
        "transitions": [{"from": "product", "to": "inquiry", "count": 1}],
        "department_transitions": [{"from": "complaint_desk", "to": "front_line", "count": 1},
                                   {"from": "logistics", "to": "customer_care", "count": 1}],
        "person_decided": 1, "person_agrees": {"new_rules": 0, "old_rules": 0},
        "without_inbound_message": 0,
    }
    changed = {item["ref"]: item for item in items if item["type"] == "changed"}
    assert set(changed) == {"MC-1", "MC-2"}
    assert changed["MC-1"]["changes"] == ["department"]
    assert (changed["MC-1"]["old"]["department"], changed["MC-1"]["new"]["department"]) == (
        "logistics", "customer_care")
    assert changed["MC-2"]["changes"] == ["category", "department", "supplier"]
    assert changed["MC-2"]["old"] == {"category": "product", "topic": None,
                                      "supplier_id": "SUP022", "department": "complaint_desk",
                                      "assigned_supplier_id": "SUP022"}
    assert changed["MC-2"]["new"] == {"category": "inquiry", "topic": None,
                                      "supplier_id": "SUP022", "department": "front_line",
                                      "assigned_supplier_id": None}
    assert changed["MC-2"]["rules"] == [] and changed["MC-2"]["text"] == "hàng bị vỡ"
    [person] = [item for item in items if item["type"] == "person"]
    assert (person["ref"], person["person"]) == ("MC-5", "lan")
    assert person["old"]["category"] == "product"
    assert person["ticket"]["category"] == "service"
    assert person["new"]["category"] == "inquiry"


def test_text_report(history: Runtime, candidate: Path) -> None:
    result = sb(history, "--since", "2026-11-23", "--until", "2026-11-24",
                "--config", str(candidate))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("replayed 6 ticket(s) opened 2026-11-23 to 2026-11-24 "
                        f"(Asia/Ho_Chi_Minh) with the rules of {candidate}")
    assert "  changed: 2 (category 1, topic 0, department 2, supplier 1)" in lines
    assert "  product → inquiry: 1" in lines
    assert "  logistics → customer_care: 1" in lines
    assert ("MC-2  product → inquiry; department complaint_desk → front_line; "
            "handed to SUP022 → -  rules: none  | hàng bị vỡ") in lines
    [mc1] = [line for line in lines if line.startswith("MC-1 ")]
    assert mc1.startswith("MC-1  service/delivery; department logistics → customer_care  rules: ")
    [mc5] = [line for line in lines if line.startswith("MC-5 ")]
    assert mc5.startswith("MC-5  lan set service/other; rules then product, new rules inquiry "
                          "(differ)")


def test_days_are_local_days(history: Runtime, candidate: Path) -> None:
    """MC-1 opened at 23:30 on the 23rd in Ho Chi Minh City (16:30 UTC), the others half an
    hour after midnight on the 24th (still the 23rd in UTC)."""
    later = sb(history, "--since", "2026-11-24", "--config", str(candidate), "--json")
    first = json.loads(later.output.splitlines()[0])
    assert (first["replayed"], first["changed"]) == (5, 1)
    only = sb(history, "--since", "2026-11-23", "--until", "2026-11-23", "--json")
    assert json.loads(only.output.splitlines()[0])["replayed"] == 1


def test_limit_lists_fewer_and_counts_all(history: Runtime, candidate: Path) -> None:
    result = sb(history, "--since", "2026-11-23", "--config", str(candidate), "--limit", "1")
    lines = result.output.splitlines()
    assert "  changed: 2 (category 1, topic 0, department 2, supplier 1)" in lines
    assert [line[:5] for line in lines if line.startswith("MC-")] == ["MC-1 ", "MC-5 "]
    assert "  … 1 more (--limit)" in lines


def test_the_database_is_unchanged(history: Runtime, candidate: Path) -> None:
    before = snapshot(history.db)
    result = sb(history, "--since", "2026-11-23", "--config", str(candidate))
    assert result.exit_code == 0, result.output
    assert snapshot(history.db) == before


def test_the_replay_transaction_refuses_writes(history: Runtime) -> None:
    with pytest.raises(DBAPIError), replay.read_only(history.db) as conn:
        conn.execute(tickets.update().values(category="inquiry"))
    with history.db.write() as conn:  # the connection is a writer's again afterwards
        conn.execute(tickets.update().where(tickets.c.id == 3).values(priority="high"))


def test_replay_module_without_the_cli(history: Runtime, candidate: Path) -> None:
    report = replay.replay(history.settings, replay.load_candidate(candidate), history.db,
                           date(2026, 11, 24), None, str(candidate))
    assert [(r.ref, r.changes) for r in report.changed] == [
        ("MC-2", ("category", "department", "supplier"))]
    assert report.unchanged == 3 and [r.ref for r in report.by_person] == ["MC-5"]


@pytest.mark.parametrize("since", ["2026-11-31", "yesterday", "24/11/2026"])
def test_a_bad_date_is_a_usage_error(history: Runtime, since: str) -> None:
    result = sb(history, "--since", since)
    assert result.exit_code == 2
    assert "Invalid value for '--since'" in result.output


def test_until_before_since_is_refused(history: Runtime) -> None:
    result = sb(history, "--since", "2026-11-24", "--until", "2026-11-23")
    assert result.exit_code == 2
    assert "Invalid value for --until: 2026-11-23 is before --since 2026-11-24" in result.output


def test_since_is_required(history: Runtime) -> None:
    result = sb(history)
    assert result.exit_code == 2 and "Missing option '--since'" in result.output


def test_a_missing_candidate_config(history: Runtime, tmp_path: Path) -> None:
    result = sb(history, "--since", "2026-11-23", "--config", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "Invalid value for '--config'" in result.output and "does not exist" in result.output


def test_an_invalid_candidate_config(history: Runtime, tmp_path: Path) -> None:
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data["rules"][0]["category"] = "gossip"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = sb(history, "--since", "2026-11-23", "--config", str(bad))
    assert result.exit_code == 2
    assert f"Invalid value for --config: {bad}: rules[0]: " in result.output
    assert "gossip" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [oops", encoding="utf-8")
    result = sb(history, "--since", "2026-11-23", "--config", str(broken))
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_no_database_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = CliRunner().invoke(main, ["--config", str(CONFIG), "--db", f"sqlite:///{missing}",
                                       "rules", "replay", "--since", "2026-11-23"])
    assert result.exit_code == 2
    assert f"no database at {missing}" in result.output
    assert not missing.exists()


def test_a_supplier_asking_for_answers_elsewhere_replays_as_the_supplier(
        runtime: Runtime, catalog: Database, clock: ManualClock) -> None:
    """The pipeline takes the registered From address as the supplier speaking when the
    answers are asked at a colleague's (Reply-To); the replay decides the same way."""
    clock.set(EARLY_24TH)
    [outcome] = deliver(runtime.pipeline, message(
        "<doisoat@senbuffet.vn>", "Kỳ đối soát tháng này chưa thấy chuyển tiền",
        channel="email", sender="ketoan@senbuffet.vn", when=clock.now(),
        meta={"reply_to": "ketoan@senbuffet.vn", "from_address": "cskh@senbuffet.vn"}))
    assert (outcome.category, outcome.supplier_id) == ("supplier_platform", "SUP001")
    result = sb(runtime, "--since", "2026-11-23", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.splitlines()[0])
    assert (summary["replayed"], summary["unchanged"], summary["changed"]) == (1, 1, 0)
