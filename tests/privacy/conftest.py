"""The app with Slack and every chat channel on, its file stores in the test's folder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.settings import Settings
from tests.connectors.chat import running_chat
from tests.connectors.fakes import FakePlatform, fake_platform
from tests.connectors.slack.conftest import Desk, slack_answer, slack_overrides
from tickets.clock import ManualClock
from tickets.database import Database

__all__ = ["fake_platform", "desk"]


@pytest.fixture
async def desk(settings: Settings, db: Database, catalog: Database, clock: ManualClock,
               fake_platform: Callable[..., Any], tmp_path: Path) -> AsyncIterator[Desk]:
    slack: list[FakePlatform] = []

    async def extra() -> dict[str, Any]:
        slack.append(await fake_platform(slack_answer()))
        return {**slack_overrides(slack[0].url), "email.raw_dir": str(tmp_path / "mail"),
                "email.attachments.dir": str(tmp_path / "attachments")}

    async with running_chat(settings, db, clock, fake_platform, extra) as chat:
        yield Desk(chat, slack[0])
