"""The HTTP side: the JSON API (`api`, `calls`, `replies`: the saved replies), the chat
platforms' webhooks, one route per channel in the registry (`webhooks`), Slack's events and
actions (`slack`), the supplier portal and the managers' dashboard (`portal`, `dashboard`,
`pages`), Prometheus metrics.
`common` holds the request helpers they share, so none of them imports another.

An entry point: may import `wiring`, `bootstrap` and everything below; only `cli` is above.
"""

from switchboard.web.app import create_app

__all__ = ["create_app"]
