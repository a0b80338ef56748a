"""Handoff to human agents: the policy (when), the service (tickets, live relay)."""
