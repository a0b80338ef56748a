"""Channel glue that needs both the dialogue core and voice/ (voice sessions, their transports)."""
