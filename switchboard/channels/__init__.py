"""The chat channels' registry: one `ChannelSpec` per chat channel (its config key, the
conversations it stores, their labels, its webhook's path and reader, its sender, how an
answer is addressed, whether a new ticket is acknowledged). The web layer, the outbox, the
acknowledgements and the wiring loop over it; none of them names a chat channel.

Adding a channel: `connectors/<name>/`, a module here with its `SPEC`, one line in
`registry.py`, and the declarative lines the README's "Adding a channel" lists.

May import `connectors` (the chat connectors: only this package and `wiring` do), `tickets`
and `settings`; nothing else of `switchboard`. The connectors (aiogram, httpx) are imported
inside the functions that use them: the pipeline reads this registry, and `switchboard
classify` or `ingest-eml` should not pay seconds of imports for platforms they never call.
"""

from switchboard.channels.registry import (
    conversation,
    label,
    register,
    spec_of,
    specs,
    unregister,
)
from switchboard.channels.spec import ChannelSpec, Conversation, Webhook

__all__ = ["ChannelSpec", "Conversation", "Webhook", "conversation", "label", "register",
           "spec_of", "specs", "unregister"]
