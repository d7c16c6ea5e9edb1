"""The `switchboard` command (entry point `switchboard.cli:main`): serve, worker, migrate,
classify, ingest, imports, reports, accounts.

May import every layer: it is the top. Builds nothing at import time.
"""

from switchboard.cli.main import main

__all__ = ["main"]
