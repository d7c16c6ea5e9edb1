"""What people do to tickets: agents in Slack (`slack_actions`, and the cards and thread
texts they see, `slack_cards`), suppliers in the portal (`supplier_actions`) and by mail
(`supplier_mail`), the desk actions they share (`actions`: reply, assign, status,
reclassify), the satisfaction survey (`survey`), the people's accounts (`accounts`), and
saved replies filled in for a ticket (`saved_reply`; in Slack: `slack_saved`).

May import `outbox`, `ticket_rules`, `intake`, `channels`, `router`, `tickets` and the Slack
connector's block builders; never the pipeline, the web layer or the wiring.
"""
