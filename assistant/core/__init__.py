"""Dialogue core: typed events and the one turn pipeline every channel runs."""
