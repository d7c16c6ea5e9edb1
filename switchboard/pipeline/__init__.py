"""An inbox item becomes part of a ticket, in one transaction.

`runner` claims batches (from the inbox table or Redis Streams), runs them in savepoints
and isolates a failing message; `process` is the spine, one line per stage (duplicate →
robot → supplier's answer → identify → classify → thread → rate / open / join → journal →
after-effects); each stage lives in a module of its own and returns what it decided.
`worker` is the loop that runs the runner.

May import `desk`, `outbox`, `ticket_rules`, `intake`, `channels`, `router`, `tickets`;
never a connector, Slack, FastAPI/Starlette or httpx: what agents see is `desk`'s business.
"""
