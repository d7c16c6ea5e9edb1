"""What every stage reads: built once from the settings by `Pipeline`, then shared by the
stages (plain functions) so that none of them builds a classifier, a routing table or an
SLA keeper per message."""

from __future__ import annotations

from dataclasses import dataclass

from router import RoutingTable
from switchboard.pipeline.acknowledge import Acknowledger
from switchboard.pipeline.threads import Threader
from switchboard.settings import Settings
from switchboard.ticket_rules.classification import ClassifierCache
from switchboard.ticket_rules.knowledge_file import KnowledgeFile
from switchboard.ticket_rules.sla_keeper import Keeper
from tickets.clock import Clock
from tickets.customers import Tier


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    clock: Clock
    classifiers: ClassifierCache
    routing: RoutingTable
    prefix: str
    threader: Threader
    acknowledger: Acknowledger
    acknowledge: bool  # False for imports of old mail: history gets no "we received it"
    agents_side: bool  # Slack or configured agents: somebody is told about new tickets
    sla: Keeper
    tiers: list[Tier]
    knowledge: KnowledgeFile | None = None  # the bot's; None when the bot is off
