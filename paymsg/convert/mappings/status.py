"""Hub edges for status (written next)."""
