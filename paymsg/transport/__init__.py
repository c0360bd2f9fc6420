"""Message transport: durable channels (embedded SQLite, RabbitMQ, IBM MQ) chosen by URL.

``open_channel("sqlite:///paymsg-mq.db")`` gives the embedded default; see
:mod:`paymsg.transport.channel` for the contract every channel keeps.
"""

from __future__ import annotations

from paymsg.transport.channel import (
    DLQ_SUFFIX,
    Channel,
    Delivery,
    dlq_name,
    mask_url,
    open_channel,
)

__all__ = [
    "DLQ_SUFFIX",
    "Channel",
    "Delivery",
    "dlq_name",
    "mask_url",
    "open_channel",
]
