"""The durable inbox's front door: the one JSON message model that the CLI and the API
accept (`message`), the writer that group-commits what connectors hand it before they
answer their platform (`inbox_writer`), and the Redis Streams inbox for scale-out
(`redis_inbox`).

May import `tickets`, `connectors`' message types and `settings`; nothing above it.
"""
