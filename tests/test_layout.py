"""The service layer stays readable: small modules, short functions, one registry entry per
chat channel that every layer above it loops over."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from switchboard import channels
from switchboard.settings import Settings
from switchboard.web.webhooks import routes as webhook_routes
from tickets.identities import CHANNEL_IDENTITY_KIND

ROOT = Path(__file__).resolve().parent.parent / "switchboard"
DECLARATIVE = {"settings.py"}  # pydantic models: one field a line, long by nature
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if p.name not in DECLARATIVE)


def test_no_module_in_switchboard_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := p.read_text().count("\n")) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_in_switchboard_is_over_60_lines() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert long == {}


def test_every_package_says_what_it_owns() -> None:
    for package in sorted(p.parent for p in ROOT.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and len(doc) > 80, f"{package.relative_to(ROOT)} has no docstring"


def test_every_chat_channel_is_registered_whole(settings: Settings) -> None:
    paths = {route.path for route in webhook_routes()}
    for spec in channels.specs():
        assert f"/webhooks/{spec.webhook.path}" in paths
        assert spec.settings(settings.channels).enabled in (True, False)  # under channels:
        for conversation in spec.conversations:
            assert conversation.label
            assert conversation.channel.value in CHANNEL_IDENTITY_KIND
            assert channels.spec_of(conversation.channel) is spec


def test_a_channel_is_registered_once() -> None:
    [spec, *_] = channels.specs()
    with pytest.raises(ValueError, match="registered already"):
        channels.register(spec)
