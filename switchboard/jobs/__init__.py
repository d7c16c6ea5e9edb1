"""What the scheduler runs, in any number of workers at once: the SLA sweeper (claims due
tickets, escalates yellow then red exactly once), spike alerts and the daily digest.

May import `insight`, `pipeline` and everything below; never `wiring`, `web` or `cli`.
"""
