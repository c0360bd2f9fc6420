"""Hub edges for hvps (written next)."""
