"""nba-dq's own state: what must outlive a process (alert ledger, Slack outbox, pending history rows)."""
