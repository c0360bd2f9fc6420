"""Message transport: durable channels (embedded SQLite, RabbitMQ, IBM MQ) chosen by URL.

``open_channel("sqlite:///paymsg-mq.db")`` gives the embedded default; see
:mod:`paymsg.transport.channel` for the contract every channel keeps.
"""

from __future__ import annotations

from paymsg.transport.channel import (
    DEFAULT_DELIVERY_LIMIT,
    DLQ_SUFFIX,
    Channel,
    Delivery,
    check_queue_name,
    dlq_name,
    mask_url,
    open_channel,
)
from paymsg.transport.sqlite import SqliteChannel

__all__ = [
    "DEFAULT_DELIVERY_LIMIT",
    "DLQ_SUFFIX",
    "Channel",
    "Delivery",
    "SqliteChannel",
    "check_queue_name",
    "dlq_name",
    "mask_url",
    "open_channel",
]
