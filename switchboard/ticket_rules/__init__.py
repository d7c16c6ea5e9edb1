"""The router's and the SLA package's pure decisions, wired to the store: the classifier
built from the config and the catalog (`classification`) and the SLA clocks kept on each
ticket (`sla_keeper`).

May import `router`, `sla`, `tickets` and `settings`; nothing else of `switchboard`.
"""
