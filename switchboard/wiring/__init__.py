"""The composition root's workshop: builds clients and long-running services from the
settings — email (SMTP receiver, IMAP pollers, sender), Slack (bolt app, sender), the chat
channels' senders and the Telegram bot — and starts and stops them together (`services`).

With `bootstrap.py`, the only place that reads settings to build clients.
"""
