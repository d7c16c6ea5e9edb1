"""Contact details stay out of the logs at INFO and above (masked), as an operator reads
them: the CLI's own handler, on a real command."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.redact import RedactingFormatter, mask
from tests.conftest import CONFIG, ROOT

FIXTURES = Path(__file__).parent / "connectors" / "email" / "fixtures"


@pytest.mark.parametrize(("line", "masked"), [
    ("from +84912345678 (zalo)", "from +8491****678 (zalo)"),
    ("call 0912 345 678 back", "call 0912****678 back"),
    ("(0912.345.678)", "(0912****678)"),
    ("lan.nguyen@gmail.com wrote", "l***@gmail.com wrote"),
    ("x@y.vn and Sony@chatwoot.com", "x***@y.vn and S***@chatwoot.com"),
    # what is not a contact stays as it is
    ("2026-12-03 09:48:19,192 order DH25220868 ticket MC-1203 port 18777",
     "2026-12-03 09:48:19,192 order DH25220868 ticket MC-1203 port 18777"),
])
def test_phones_and_emails_are_masked(line: str, masked: str) -> None:
    assert mask(line) == masked


def test_debug_keeps_the_detail_info_does_not() -> None:
    formatter = RedactingFormatter("%(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "from %s", ("lan@gmail.com",),
                               None)
    assert formatter.format(record) == "from l***@gmail.com"
    record.levelno = logging.DEBUG
    assert formatter.format(record) == "from lan@gmail.com"


def test_the_cli_logs_no_address_at_info(tmp_path: Path) -> None:
    """An auto-reply that concerns no ticket is logged with its sender: masked."""
    folder = tmp_path / "mail"
    folder.mkdir()
    shutil.copy(FIXTURES / "out_of_office_x_autoreply.eml", folder / "ooo.eml")
    result = subprocess.run([sys.executable, "-m", "switchboard.cli", "--config", str(CONFIG),
                             "--db", f"sqlite:///{tmp_path}/r.db", "ingest-eml", str(folder)],
                            capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    logged = result.stderr + result.stdout
    assert "concerns no ticket" in logged
    assert "sony@chatwoot.com" not in logged.lower() and "s***@chatwoot.com" in logged.lower()
