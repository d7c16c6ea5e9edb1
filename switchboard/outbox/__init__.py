"""Answers to customers and notices to people: composed for the ticket's channel and written
in the caller's transaction (`compose`), sent with retries and back-off by the dispatcher
(`dispatcher`), internal notices by mail (`notices`) and the Jinja2 templates (`templates`).

May import `channels`, `intake`, `settings`, `tickets`, and the sender port of `connectors`.
"""
