"""The composition root: settings in, ready objects out. Nothing is built at import time."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard.outbox.saved_replies import SavedReplies, library_for
from switchboard.outbox.templates import Templates
from switchboard.pipeline.runner import Pipeline
from switchboard.secrets import load_secret
from switchboard.settings import Settings, load_settings
from switchboard.ticket_rules.classification import ClassifierCache
from tickets.clock import Clock, SystemClock
from tickets.database import Database

DEFAULT_CONFIG = Path("config.yaml")
log = logging.getLogger("switchboard")

if TYPE_CHECKING:
    from switchboard.intake.redis_inbox import RedisInbox


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    pipeline: Pipeline
    secret: bytes
    templates: Templates
    replies: SavedReplies  # saved replies, checked here so a bad file stops the start


def config_path(option: str | None) -> Path:
    return Path(option or os.environ.get("SWITCHBOARD_CONFIG") or DEFAULT_CONFIG)


def load(config: Path, db_url: str | None = None) -> Settings:
    db_url = db_url or os.environ.get("SWITCHBOARD_DATABASE_URL")
    overrides = {"database.url": db_url} if db_url else None
    return load_settings(config, overrides=overrides)


def build(settings: Settings, clock: Clock | None = None, *, pooled: bool = True) -> Runtime:
    db = Database(settings.database.url, pooled=pooled,
                  sqlite_synchronous=settings.database.sqlite_synchronous)
    clock = clock or SystemClock()
    secret = load_secret(settings)
    templates = Templates(Path(settings.templates_dir) if settings.templates_dir else None)
    pipeline = Pipeline(settings, db, clock, ClassifierCache(settings), secret, templates)
    pipeline.queue = make_queue(settings)
    replies = library_for(settings.templates_dir)  # ReplyFileError names the file
    return Runtime(settings, db, clock, pipeline, secret, templates, replies)


def make_queue(settings: Settings) -> RedisInbox | None:
    q = settings.queue
    if not q.url:
        return None
    from switchboard.intake.redis_inbox import RedisInbox

    return RedisInbox(q.url, partitions=q.partitions, prefix=q.prefix,
                      lease_ms=int(q.lease.total_seconds() * 1000),
                      retry_ms=int(q.retry_after.total_seconds() * 1000),
                      dedup_seconds=int(q.dedup_for.total_seconds()),
                      max_attempts=settings.worker.max_attempts)
