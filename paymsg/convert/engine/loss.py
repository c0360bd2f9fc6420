"""The loss log: what a mapping records about every field that does not cross unchanged.

Loss entries name fields by absolute paths, ``/Document/<message element>/…`` (1-based list
indexes); the text of an element is the element itself (``…/IntrBkSttlmAmt``) and an
attribute is ``…/IntrBkSttlmAmt/@Ccy`` (see :func:`loss_path`). ``LossEntry.document`` is the
type the source path belongs to (on a route through the hub, the intermediate unified type
for the second edge).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from paymsg.convert.engine.paths import ensure, put, shown_value, value_at
from paymsg.schema.catalog import MessageType

Action = Literal["dropped", "truncated", "defaulted", "transliterated", "moved"]


class LossEntry(BaseModel):
    """One field that did not survive a conversion unchanged.

    ``source_path`` and ``target_path`` are absolute (``/Document/<message element>/…``, see
    :func:`loss_path`); ``document`` is the message type ``source_path`` belongs to.
    """

    model_config = ConfigDict(frozen=True)

    source_path: str
    action: Action
    reason: str
    target_path: str | None = None
    value: str | None = None
    document: str | None = None


_TEXT_STEP = re.compile(r"/#text(?=/|$)")
_ANY_STEP = re.compile(r"/#any(?=[/\[]|$)")


def loss_path(path: str) -> str:
    """A data path as loss entries show it.

    Absolute (a path relative to the document gets ``/Document/``); the text of an element
    is the element (``…/IntrBkSttlmAmt``, never ``…/#text``), an attribute stays
    ``…/IntrBkSttlmAmt/@Ccy``, and wildcard content is ``…/Envlp/*[1]`` (not ``#any``).
    """
    if not path.startswith("/"):
        path = "/Document/" + path
    return _ANY_STEP.sub("/*", _TEXT_STEP.sub("", path))


def shown(root: str, path: str) -> str:
    """A path below the message element ``root`` as loss entries show it."""
    return loss_path(f"/Document/{root}/{path}")


@dataclass
class ConvertOptions:
    """Options of a conversion (CNAPS2 header fields for CNAPS2 targets, ids, clock)."""

    sender: str | None = None
    receiver: str | None = None
    priority: Literal["1", "2", "3"] | None = None
    id_generator: Callable[[], str] | None = None
    now: datetime | None = None
    wrap: bool = True


@dataclass
class MappingContext:
    """What a mapping function gets besides the source data: options and the loss log."""

    source: MessageType
    target: MessageType
    options: ConvertOptions
    loss: list[LossEntry] = field(default_factory=list)

    def lose(
        self,
        source_path: str,
        action: Action,
        reason: str,
        *,
        value: Any = None,
        target_path: str | None = None,
    ) -> None:
        self.loss.append(
            LossEntry(
                source_path=loss_path(source_path),
                action=action,
                reason=reason,
                target_path=None if target_path is None else loss_path(target_path),
                value=None if value is None else str(value),
            )
        )

    @property
    def recorded(self) -> set[str]:
        """The source paths reported so far."""
        return {entry.source_path for entry in self.loss}

    def fit(self, source_path: str, text: str | None, limit: int, target_path: str) -> str | None:
        """``text`` cut to ``limit`` characters; a cut is recorded as truncation."""
        if text is None or len(text) <= limit:
            return text
        self.lose(
            source_path,
            "truncated",
            f"{len(text)} characters, the target field holds {limit}",
            value=text,
            target_path=target_path,
        )
        return text[:limit]


#: :func:`default` shows the value written in its loss entry (the default)
SHOW_VALUE: Any = object()


def default(
    ctx: MappingContext,
    value: Any,
    *,
    source: str,
    target: str,
    reason: str,
    out: dict[str, Any] | None = None,
    at: str | None = None,
    shown_as: Any = SHOW_VALUE,
) -> Any:
    """The *default* policy, the one way every mapping fills what the target requires and
    the source does not give: ``value`` is written at ``at`` in ``out`` (when both are given
    and nothing is there yet; an empty dict makes the element) and recorded ``defaulted``
    from ``source`` to ``target`` (loss paths). The loss entry shows the value written
    (``shown_as`` another one, or None for none). Returns ``value``, or None when ``at``
    already held something and nothing was done."""
    if out is not None and at is not None:
        if value_at(out, at) is not None:
            return None
        if isinstance(value, dict) and not value:
            ensure(out, at)
        else:
            put(out, at, value)
    ctx.lose(
        source,
        "defaulted",
        reason,
        value=shown_value(value) if shown_as is SHOW_VALUE else shown_as,
        target_path=target,
    )
    return value
