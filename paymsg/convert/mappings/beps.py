"""Hub edges for beps (written next)."""
