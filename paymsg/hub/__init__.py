"""The hub's business day (:mod:`paymsg.hub.day`), on the top layer beside ``cli``."""
