"""Envelopes: the business application header, the CNAPS2 header and signature, wrap, signing."""
