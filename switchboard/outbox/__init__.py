"""Answers to customers and notices to people: composed for the ticket's channel and written
in the caller's transaction (`compose`), sent with retries and back-off by the dispatcher
(`dispatcher`), internal notices by mail (`notices`), the Jinja2 templates (`templates`)
and the saved replies agents send by code (`saved_replies`, addressing the customer by
name the Vietnamese way: `salutation`).

May import `channels`, `intake`, `settings`, `tickets`, `router` (its pure text helpers) and
the sender port of `connectors`.
"""
