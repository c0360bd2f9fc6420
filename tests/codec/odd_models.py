"""Dataclasses unlike the generated models, for the engines' construction tests."""

from __future__ import annotations

from dataclasses import dataclass, field

NS_TEST = "urn:example:paymsg:engine-test"


@dataclass(kw_only=True)
class Defaults:
    """Construction cases the generated models do not have: non-``None`` defaults, a list
    whose factory is not ``list``, a required list."""

    class Meta:
        name = "Defaults"
        namespace = NS_TEST

    req: str = field(metadata={"type": "Element"})
    opt: str = field(default="fallback", metadata={"type": "Element"})
    num: int | None = field(default=None, metadata={"type": "Element"})
    many: list[str] = field(default_factory=lambda: ["seed"], metadata={"type": "Element"})
    needed: list[str] = field(metadata={"type": "Element"})


@dataclass(kw_only=True)
class PostInit(Defaults):
    """``__post_init__`` makes ``__init__`` more than stores: ``cls(**kw)`` is used."""

    class Meta:
        name = "PostInit"
        namespace = NS_TEST

    def __post_init__(self) -> None:
        self.req = self.req.upper()
