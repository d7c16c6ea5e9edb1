"""The command groups that live in their own modules, registered on `main` in one place."""

from __future__ import annotations

from switchboard.cli.answer import answer
from switchboard.cli.corrections import corrections_group
from switchboard.cli.customers import customers
from switchboard.cli.model import model_group
from switchboard.cli.privacy import privacy_group

GROUPS = (customers, privacy_group, answer, corrections_group, model_group)
