"""The HTTP side: JSON API, health check, and (later) webhooks and pages."""

from switchboard.web.app import create_app

__all__ = ["create_app"]
