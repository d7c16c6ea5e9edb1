"""Switchboard's service layer and composition root, one package per capability.

Read it from the bottom up; each layer may import the ones below it, never those above
(import-linter keeps it so, see `[tool.importlinter]` in pyproject.toml):

    cli/            the `switchboard` command: serve, worker, migrate, imports, reports
    web/            HTTP: the JSON API, the platforms' webhooks, Slack, portal, dashboard
    wiring/         builds clients and long-running services from the settings
    bootstrap.py    the Runtime: settings, database, clock, pipeline (nothing built at import)
    jobs/           what the scheduler runs: the SLA sweeper, spike alerts, the daily digest
    insight/        reports, metrics, rules replay, status
    pipeline/       an inbox item becomes part of a ticket: the spine in `pipeline/process.py`
    desk/           what people do to tickets: agents (Slack), suppliers (portal), managers
    outbox/         answers composed for a channel, dispatched with retries; message templates
    ticket_rules/   the router's classifier and the SLA clocks, wired to the store
    intake/         the inbox: the JSON message model, the group-committing writer, Redis
    channels/       the registry: one ChannelSpec per chat channel, read by every layer above
    secrets.py      the signing secret, from the environment or a file under var/
    settings.py     the typed, documented config.yaml      timefmt.py  times for people

Below `switchboard/` sit the client's fixed folders: `connectors/` (one per platform; no
rules), `router/` and `sla/` (pure functions, no I/O) and `tickets/` (the model and store).
"""
