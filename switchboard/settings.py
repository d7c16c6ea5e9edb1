"""`config.yaml`, validated: the only place settings are read.

Every key is typed; an unknown or bad key fails at start with its path
(`rules[3].category: unknown category 'prodcut'`). Secrets are never written in the file:
`${NAME}` takes an environment variable (and fails loudly when it is unset), `${NAME:-x}`
falls back to `x`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from router.assignment import parse_shift
from router.rules import CATEGORIES, ENTITY_KINDS, PRIORITIES, TOPICS
from sla.calendar import parse_hours
from sla.policy import TIMERS as SLA_TIMERS
from tickets.messages import customer_channels

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days",
          "w": "weeks"}


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 7x faster on our rules


class ConfigError(Exception):
    """A configuration problem, worded for the person editing config.yaml."""


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 200ms, 30s, 15m, 24h, 3d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Model):
    url: str = "sqlite:///var/switchboard.db"
    sqlite_synchronous: Literal["full", "normal"] = "full"


class QueueSettings(_Model):
    """Where the inbox lives: empty `url` keeps it a table in the database (one process, or
    several on PostgreSQL); `redis://...` makes it Redis Streams for many workers."""

    url: str = ""
    partitions: int = Field(8, ge=1, le=1024)  # one sender's messages stay in one, in order
    lease: Duration = timedelta(seconds=15)  # how long a dead worker's partitions stay idle
    retry_after: Duration = timedelta(seconds=2)  # a failed or orphaned entry is retried
    dedup_for: Duration = timedelta(days=7)  # replays within this are refused at intake
    prefix: str = Field("sb", pattern=r"^[A-Za-z0-9_.-]+$")


class HttpSettings(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(2_097_152, ge=65_536)


class TokenSettings(_Model):
    name: str
    token: str
    role: Literal["admin", "manager", "agent"]
    departments: tuple[str, ...] = ()


class AuthSettings(_Model):
    tokens: tuple[TokenSettings, ...] = ()


class WorkerSettings(_Model):
    batch_size: int = Field(200, ge=1, le=5000)
    idle_sleep: Duration = timedelta(milliseconds=200)
    max_attempts: int = Field(5, ge=1)


class TicketSettings(_Model):
    ref_prefix: str = Field("MC", pattern=r"^[A-Za-z]{1,8}$")
    max_text_chars: int = Field(100_000, ge=1000)


class ThreadingSettings(_Model):
    join_open_within: Duration = timedelta(days=3)
    join_by_customer: tuple[str, ...] = ("messenger", "telegram", "zalo", "phone", "api")
    reopen_within: Duration = timedelta(days=7)

    @field_validator("join_by_customer")
    @classmethod
    def _channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in customer_channels()]
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; channels are "
                             f"{sorted(customer_channels())}")
        return value


class TierSettings(_Model):
    name: str
    min_spend: int = Field(ge=0)


class CustomerSettings(_Model):
    tiers: tuple[TierSettings, ...] = (
        TierSettings(name="vip", min_spend=20_000_000),
        TierSettings(name="gold", min_spend=5_000_000),
        TierSettings(name="silver", min_spend=1_000_000),
        TierSettings(name="standard", min_spend=0),
    )


class ClassifierSettingsModel(_Model):
    threshold: float = Field(0.3, ge=0, le=1)
    prior: float = Field(1.0, ge=0)
    fallback_category: str = "inquiry"
    default_priority: str = "normal"
    purchase_words: tuple[str, ...] = ()
    # the text model beside the rules: a file from `switchboard model train`; empty: the
    # one shipped in router/model.npz (when present); "off": the rules alone
    model: str = ""

    @field_validator("fallback_category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}; categories are {list(CATEGORIES)}")
        return value

    @field_validator("default_priority")
    @classmethod
    def _priority(cls, value: str) -> str:
        if value not in PRIORITIES:
            raise ValueError(f"unknown priority {value!r}; priorities are {list(PRIORITIES)}")
        return value


class OrderCodeSettings(_Model):
    pattern: str
    template: str = "{0}"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from exc
        if compiled.groups < 1:
            raise ValueError("the pattern needs one capture group for the code")
        return value


class EntitySettings(_Model):
    order_codes: tuple[OrderCodeSettings, ...] = (
        OrderCodeSettings(pattern=r"(?<![A-Za-z0-9])[DĐ]H[\s#:.-]{0,2}(\d{8})(?!\d)",
                          template="DH{0}"),
    )


class RuleSettings(_Model):
    # a keyword such as 1900 (the hotline prefix) is written without quotes by people
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    name: str = Field(pattern=r"^[a-z0-9_.-]+$")
    description: str | None = None
    category: str | None = None
    topic: str | None = None
    weight: float = Field(1.0, gt=0)
    keywords: tuple[str, ...] = ()
    all_of: tuple[tuple[str, ...], ...] = ()
    unless: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    sender: Literal["customer", "supplier"] | None = None
    entities: tuple[str, ...] = ()
    priority: str | None = None
    tags: tuple[str, ...] = ()
    department: str | None = None

    @model_validator(mode="after")
    def _check(self) -> RuleSettings:
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}; use one of {list(CATEGORIES)}")
        if self.topic is not None:
            if self.topic not in TOPICS:
                raise ValueError(f"unknown topic {self.topic!r}; use one of {list(TOPICS)}")
            if self.category != "service":
                raise ValueError("a topic is only for category service")
        if self.priority is not None and self.priority not in PRIORITIES:
            raise ValueError(f"unknown priority {self.priority!r}")
        bad = [c for c in self.channels if c not in customer_channels()]
        if bad:
            raise ValueError(f"unknown channel(s) {bad}")
        bad = [e for e in self.entities if e not in ENTITY_KINDS]
        if bad:
            raise ValueError(f"unknown entity kind(s) {bad}; use {list(ENTITY_KINDS)}")
        for pattern in self.regex:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return self


class DepartmentSettings(_Model):
    name: str
    slack_channel: str = ""  # the Slack channel id its tickets are posted to
    # plain messages in a ticket's Slack thread: "internal" notes (the "Reply to customer"
    # button answers), or "customer" (sent; a message starting "note:" stays internal)
    thread_messages: Literal["internal", "customer"] = "internal"


class RoutingSettings(_Model):
    departments: Mapping[str, DepartmentSettings]
    by_category: Mapping[str, str]
    by_topic: Mapping[str, str] = {}
    default_department: str
    supplier_acts_on: tuple[str, ...] = ("product", "supplier")
    unknown_supplier_department: str | None = None

    @model_validator(mode="after")
    def _known(self) -> RoutingSettings:
        known = set(self.departments)
        used = [("by_category", d) for d in self.by_category.values()]
        used += [("by_topic", d) for d in self.by_topic.values()]
        used.append(("default_department", self.default_department))
        if self.unknown_supplier_department:
            used.append(("unknown_supplier_department", self.unknown_supplier_department))
        for key, department in used:
            if department not in known:
                raise ValueError(f"{key}: department {department!r} is not in departments")
        for category in self.by_category:
            if category not in CATEGORIES:
                raise ValueError(f"by_category: unknown category {category!r}")
        for topic in self.by_topic:
            if topic not in TOPICS:
                raise ValueError(f"by_topic: unknown topic {topic!r}")
        return self


class ImapSettings(_Model):
    host: str
    port: int = Field(993, ge=1, le=65535)
    ssl: bool = True
    starttls: bool = False
    username: str
    password: str
    folder: str = "INBOX"
    after: Literal["flag", "move"] = "flag"
    flag: str = "$Switchboard"
    move_to: str = "Switchboard"
    idle: bool = True
    poll_interval: Duration = timedelta(seconds=60)
    max_message_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    # mail older than this when taken (a mailbox connected with its old mail) becomes
    # tickets without acknowledgements
    history_older_than: Duration = timedelta(days=1)


class MailboxSettings(_Model):
    address: str = Field(pattern=r"^[^@\s+]+@[^@\s]+\.[^@\s]+$")
    name: str = ""
    imap: ImapSettings | None = None


class ReceiverSettings(_Model):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    hostname: str | None = None
    max_message_bytes: int = Field(15 * 1024 * 1024, ge=1024)
    tls_cert: str | None = None
    tls_key: str | None = None
    require_starttls: bool = False
    users: Mapping[str, str] = {}
    # An MX is written to by every mail server on the Internet, which cannot log in: AUTH
    # is for a forwarder or a relay of our own, and required only where this port serves
    # nothing else.
    auth_required: bool = False

    @model_validator(mode="after")
    def _auth(self) -> ReceiverSettings:
        if not self.enabled:
            return self
        if self.auth_required and not self.users:
            raise ValueError("auth_required needs users to log in as")
        if self.users and not (self.tls_cert and self.tls_key):
            # aiosmtpd offers AUTH only after STARTTLS: passwords never cross in the clear
            raise ValueError("users are set but tls_cert/tls_key are not: AUTH is offered "
                             "only over TLS, so nobody could log in")
        return self


class RelaySettings(_Model):
    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    password: str = ""
    timeout: Duration = timedelta(seconds=30)


class AckSettings(_Model):
    enabled: bool = True
    max_per_sender: int = Field(10, ge=0)
    window: Duration = timedelta(hours=3)
    max_per_subject: int = Field(2, ge=0)


class FileSettings(_Model):
    dir: str = "var/attachments"
    max_bytes: int = Field(10 * 1024 * 1024, ge=1)
    max_count: int = Field(20, ge=0)


class EmailSettings(_Model):
    mailboxes: tuple[MailboxSettings, ...] = ()
    receiver: ReceiverSettings = ReceiverSettings()
    relay: RelaySettings = RelaySettings()
    acknowledgements: AckSettings = AckSettings()
    attachments: FileSettings = FileSettings()
    raw_dir: str = "var/mail"
    message_id_domain: str | None = None


class _ChannelModel(_Model):
    enabled: bool = False
    acknowledge: bool = True

    def _require(self, *names: str) -> None:
        if self.enabled:
            missing = [n for n in names if not getattr(self, n)]
            if missing:
                raise ValueError(f"{', '.join(missing)} required when the channel is enabled")


class MessengerSettings(_ChannelModel):
    page_id: str = ""
    app_secret: str = ""
    verify_token: str = ""
    page_access_token: str = ""
    graph_url: str = "https://graph.facebook.com/v21.0"
    private_replies: bool = False  # comments: also answer privately in Messenger

    @model_validator(mode="after")
    def _credentials(self) -> MessengerSettings:
        self._require("page_id", "app_secret", "verify_token", "page_access_token")
        return self


class TelegramSettings(_ChannelModel):
    token: str = ""
    mode: Literal["webhook", "polling"] = "webhook"
    webhook_secret: str = ""
    api_url: str | None = None  # another Bot API server (a local one); None: Telegram's

    @model_validator(mode="after")
    def _credentials(self) -> TelegramSettings:
        self._require("token")
        if self.enabled and self.mode == "webhook":
            self._require("webhook_secret")
        return self


class ZaloSettings(_ChannelModel):
    app_id: str = ""
    secret_key: str = ""  # the OA secret key, signs webhooks
    access_token: str = ""
    api_url: str = "https://openapi.zalo.me"

    @model_validator(mode="after")
    def _credentials(self) -> ZaloSettings:
        self._require("app_id", "secret_key", "access_token")
        return self


class WebCommentSettings(_ChannelModel):
    secret: str = ""
    callback_url: str = ""
    acknowledge: bool = False  # a public comment box: the answer itself is the reply

    @model_validator(mode="after")
    def _credentials(self) -> WebCommentSettings:
        self._require("secret")
        return self


class ChannelSettings(_Model):
    max_body_bytes: int = Field(1_048_576, ge=1024)
    send_timeout: Duration = timedelta(seconds=20)  # a platform slower than this: retried
    messenger: MessengerSettings = MessengerSettings()
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()
    web_comments: WebCommentSettings = WebCommentSettings()


class AgentSettings(_Model):
    name: str = Field(min_length=1, max_length=128)
    display_name: str = Field("", max_length=128)  # as customers see it (saved replies)
    slack_user: str = ""  # Slack user id (U...); only mapped users may act from Slack
    email: str = ""
    role: Literal["agent", "manager"] = "agent"
    departments: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()  # categories this agent takes; empty: all
    max_open: int = Field(25, ge=1)
    shift: str = "always"  # local time, e.g. "mon-fri 08:00-17:30; sat 08:00-12:00"

    @field_validator("shift")
    @classmethod
    def _shift(cls, value: str) -> str:
        parse_shift(value)
        return value

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown}")
        return value


class SlackSettings(_Model):
    enabled: bool = False
    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""  # xapp-...: Socket Mode instead of HTTP events at /slack/events
    api_url: str = "https://slack.com/api/"
    category_channels: Mapping[str, str] = {}  # category -> channel id, before departments
    assign_round_robin: bool = True

    @model_validator(mode="after")
    def _credentials(self) -> SlackSettings:
        if self.enabled:
            missing = [n for n in ("bot_token", "signing_secret") if not getattr(self, n)]
            if missing:
                raise ValueError(f"{', '.join(missing)} required when Slack is enabled")
        return self


class CalendarSettings(_Model):
    always: bool = False  # 24/7: every second counts
    hours: Mapping[str, str] = {"mon-fri": "08:00-17:30", "sat": "08:00-12:00"}
    country: str | None = "VN"  # public holidays (lunar ones too) from the holidays package
    days_off: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()  # make-up days, worked with make_up_hours
    make_up_hours: str = "08:00-17:30"

    @model_validator(mode="after")
    def _hours(self) -> CalendarSettings:
        parse_hours(self.hours)
        parse_hours({"mon": self.make_up_hours})
        return self


class SlaConditions(_Model):
    category: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    department: tuple[str, ...] = ()


class LadderStepSettings(_Model):
    after: Duration  # past the deadline
    notify: tuple[str, ...] = ("managers",)  # agent names, or "managers"


class SlaPolicySettings(_Model):
    name: str
    when: SlaConditions = SlaConditions()
    calendar: str = "business"
    first_response: Duration | None = None
    next_response: Duration | None = None
    resolution: Duration | None = None
    supplier_first_response: Duration | None = None
    supplier_resolution: Duration | None = None
    warn: str = "80%"  # a share of the time, or a duration before the deadline ("30m")
    ladder: tuple[LadderStepSettings, ...] = ()

    @field_validator("warn")
    @classmethod
    def _warn(cls, value: str) -> str:
        text = value.strip()
        if text.endswith("%"):
            number = float(text[:-1])
            if not 0 < number < 100:
                raise ValueError("a warning share is between 0% and 100%")
        else:
            parse_duration(text)
        return value


class WaitSettings(_Model):
    holder: str  # who holds the clock while a ticket has this status
    pauses: tuple[str, ...] = ()  # which timers stop meanwhile


class SlaSettings(_Model):
    enabled: bool = True
    sweep_every: Duration = timedelta(seconds=2)
    batch_size: int = Field(500, ge=1)
    calendars: Mapping[str, CalendarSettings] = {"business": CalendarSettings(),
                                                 "always": CalendarSettings(always=True)}
    policies: tuple[SlaPolicySettings, ...] = ()
    waits: Mapping[str, WaitSettings] = {}

    @model_validator(mode="after")
    def _consistent(self) -> SlaSettings:
        for policy in self.policies:
            if policy.calendar not in self.calendars:
                raise ValueError(f"policy {policy.name}: unknown calendar {policy.calendar!r}")
        for status, wait in self.waits.items():
            unknown = [t for t in wait.pauses if t not in SLA_TIMERS]
            if unknown:
                raise ValueError(f"waits.{status}: unknown timers {unknown}")
        return self


class OutboxSettings(_Model):
    batch_size: int = Field(50, ge=1)
    max_attempts: int = Field(8, ge=1)
    backoff_base: Duration = timedelta(seconds=30)
    backoff_max: Duration = timedelta(hours=1)
    lease: Duration = timedelta(minutes=2)
    idle_sleep: Duration = timedelta(seconds=1)


class PortalSettings(_Model):
    """The web pages for suppliers and managers (`/portal`, `/dashboard`)."""

    base_url: str = "http://127.0.0.1:8080"  # how links in emails reach the portal
    session_ttl: Duration = timedelta(hours=8)  # a session ends this long after login
    session_idle: Duration = timedelta(hours=2)  # ...or after this long unused
    max_failures_per_email: int = Field(5, ge=1)
    max_failures_per_ip: int = Field(20, ge=1)
    failure_window: Duration = timedelta(minutes=15)


MACRO_ACTIONS = ("reply", "status", "reclassify", "transfer", "hand_to_supplier", "priority",
                 "tag")


class MacroSettings(_Model):
    """A named list of actions run in one go (switchboard/desk/macros.py); each action is a
    one-key mapping: `{reply: code}`, `{status: pending_carrier}`, `{reclassify:
    service/delivery}`, `{transfer: logistics}`, `{hand_to_supplier: true}`, `{priority:
    high}`, `{tag: late_delivery}`."""

    name: str = Field(pattern=r"^[a-z0-9_.-]+$")
    title: str = ""
    actions: tuple[Mapping[str, str], ...] = Field(min_length=1)

    @field_validator("actions", mode="before")
    @classmethod
    def _actions(cls, value: Any) -> Any:
        for step in value or ():
            if not isinstance(step, Mapping) or len(step) != 1:
                raise ValueError(f"each action is one key and its value, not {step!r}")
            kind = next(iter(step))
            if kind not in MACRO_ACTIONS:
                raise ValueError(f"unknown action {kind!r}; one of {', '.join(MACRO_ACTIONS)}")
        return [{k: str(v) for k, v in step.items()} for step in value or ()]


class RetentionSettings(_Model):
    """How long personal data is kept once it is no longer needed; empty: for ever."""

    closed_tickets: Duration | None = None  # after closing, a ticket is anonymised
    raw_mail: Duration | None = None  # the stored .eml files (texts stay on the ticket)
    every: Duration = timedelta(hours=1)  # how often the sweeper looks
    batch_size: int = Field(500, ge=1)  # tickets per transaction


class PrivacySettings(_Model):
    """Vietnam's Personal Data Protection Law (No. 91/2025/QH15): retention, and whether
    PostgreSQL tables are rewritten after an erasure (VACUUM FULL locks them meanwhile)."""

    retention: RetentionSettings = RetentionSettings()
    vacuum_full: bool = False


BotMode = Literal["full", "faq", "off"]
BOT_CHANNELS: dict[str, BotMode] = {"messenger": "full", "zalo": "full", "telegram": "full",
                                    "email": "full", "facebook_comment": "faq",
                                    "web_comment": "faq", "phone": "off", "api": "off"}


class BotSettings(_Model):
    """The bot answers the questions it can (knowledge base, order status) and hands over to
    people otherwise. Per channel: `full` (knowledge and order status), `faq` (public
    comments: knowledge answers only, never an order's details) or `off`."""

    enabled: bool = True
    knowledge: str | None = None  # a YAML file; empty: <templates>/knowledge/marketplace.yaml
    threshold: float = Field(0.5, gt=0, le=1)  # below: hand over rather than guess
    channels: Mapping[str, BotMode] = BOT_CHANNELS
    out_of_hours: bool = True  # one reply naming when people answer, outside working hours

    @field_validator("channels")
    @classmethod
    def _known(cls, value: Mapping[str, BotMode]) -> Mapping[str, BotMode]:
        unknown = sorted(set(value) - set(BOT_CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(unknown)}; known: "
                             f"{', '.join(BOT_CHANNELS)}")
        return {**BOT_CHANNELS, **value}

    def mode(self, channel: str) -> BotMode:
        return self.channels.get(channel, "off") if self.enabled else "off"


class SurveySettings(_Model):
    """One question after a ticket is resolved: how satisfied, 1 to 5."""

    enabled: bool = True
    answer_within: Duration = timedelta(days=7)


class SpikeSettings(_Model):
    """Complaints about one supplier, product or topic jumping above their usual rate."""

    enabled: bool = True
    every: Duration = timedelta(minutes=5)
    window: Duration = timedelta(hours=1)
    trailing: Duration = timedelta(days=7)  # the usual rate: the average window before
    factor: float = Field(3.0, gt=1)
    min_count: int = Field(5, ge=1)
    slack_channel: str = ""  # where managers are told; empty: a DM to each manager


class DigestSettings(_Model):
    enabled: bool = True
    at: str = Field("08:00", pattern=r"^\d{2}:\d{2}$")  # local time, every day
    slack_channel: str = ""  # empty: a DM to each manager


class DashboardSettings(_Model):
    spikes: SpikeSettings = SpikeSettings()
    digest: DigestSettings = DigestSettings()


class Settings(_Model):
    timezone: str = "Asia/Ho_Chi_Minh"
    secret: str = ""
    templates_dir: str | None = None
    database: DatabaseSettings = DatabaseSettings()
    queue: QueueSettings = QueueSettings()
    http: HttpSettings = HttpSettings()
    auth: AuthSettings = AuthSettings()
    worker: WorkerSettings = WorkerSettings()
    tickets: TicketSettings = TicketSettings()
    threading: ThreadingSettings = ThreadingSettings()
    customers: CustomerSettings = CustomerSettings()
    classifier: ClassifierSettingsModel = ClassifierSettingsModel()
    entities: EntitySettings = EntitySettings()
    teencode: Mapping[str, str] = {}
    rules: tuple[RuleSettings, ...] = ()
    routing: RoutingSettings
    email: EmailSettings = EmailSettings()
    channels: ChannelSettings = ChannelSettings()
    outbox: OutboxSettings = OutboxSettings()
    slack: SlackSettings = SlackSettings()
    agents: tuple[AgentSettings, ...] = ()
    sla: SlaSettings = SlaSettings()
    portal: PortalSettings = PortalSettings()
    survey: SurveySettings = SurveySettings()
    bot: BotSettings = BotSettings()
    privacy: PrivacySettings = PrivacySettings()
    macros: tuple[MacroSettings, ...] = ()
    dashboard: DashboardSettings = DashboardSettings()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _macros_consistent(self) -> Settings:
        names = [m.name for m in self.macros]
        if len(names) != len(set(names)):
            raise ValueError("macros: a macro name is used twice")
        for macro in self.macros:
            for step in macro.actions:
                kind, value = next(iter(step.items()))
                if kind == "transfer" and value not in self.routing.departments:
                    raise ValueError(f"macro {macro.name}: department {value!r} is not in "
                                     "routing.departments")
        return self

    @model_validator(mode="after")
    def _rules_consistent(self) -> Settings:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice")
            seen.add(rule.name)
            if rule.department and rule.department not in self.routing.departments:
                raise ValueError(f"rule {rule.name}: department {rule.department!r} is not in "
                                 "routing.departments")
            if not (rule.category or rule.priority or rule.tags or rule.department):
                raise ValueError(f"rule {rule.name}: has no action (category, priority, tags "
                                 "or department)")
        names: set[str] = set()
        for agent in self.agents:
            if agent.name in names:
                raise ValueError(f"agent name {agent.name!r} is used twice")
            names.add(agent.name)
            unknown = [d for d in agent.departments if d not in self.routing.departments]
            if unknown:
                raise ValueError(f"agent {agent.name}: unknown departments {unknown}")
        for category in self.slack.category_channels:
            if category not in CATEGORIES:
                raise ValueError(f"slack.category_channels: unknown category {category!r}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _substitute(node: Any, path: str, environ: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, f"{path}.{k}" if path else str(k), environ)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, f"{path}[{i}]", environ) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in environ:
                return environ[name]
            if default is not None:
                return default
            raise ConfigError(f"{path}: environment variable {name} is not set")
        return _ENV.sub(replace, node)
    return node


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_settings(
    path: Path, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read and validate a config file; `overrides` are dotted keys set by CLI options."""
    environ = os.environ if environ is None else environ
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such configuration file") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    data = _substitute(raw, "", environ)
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None
