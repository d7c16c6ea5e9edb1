"""What managers and operators read: reports (`reports`, the dashboard's tables), the
Prometheus metrics (`metrics`), what a rules change would have decided on past tickets
(`replay`, which reads the past from `replay_history`) and the service's status (`status`).

Reads the store; writes nothing but metrics. May import `pipeline` and everything below.
"""
