"""MQ settings: a TOML file, then ``PAYMSG_MQ_*`` environment variables, then options.

The file holds one ``[mq]`` table (or the keys at top level)::

    [mq]
    channel = "sqlite:///paymsg-mq.db"      # or amqp://user:pass@host:5672/vhost, ibmmq://…
    journal = "sqlite:///paymsg-journal.db" # or postgresql://user@host/db
    participant = "102100099996"           # our bank code (header OrigSender)
    out_queue = "MSGMBFE_1"                 # towards CNAPS (the MBFE)
    in_queue = "MSGTOBANK_1"                # our own queue: 990s and NPC messages
    confirm_timeout = 60.0                  # seconds to wait for a ccms.990
    resend = 3                              # resends of the same MesgID before timed_out
    resend_backoff = 2.0                    # each wait is this much longer than the last
    workers = 1                             # handler threads (order kept per sender)
    handler = "mybank.payments:on_message"  # MODULE:FUNCTION or path/to/file.py:FUNCTION
    handler_attempts = 3                    # failures before a message is quarantined
    reply_header_ids = "echo"               # our 990 header MesgID: echo the confirmed one, or new
    validate = true

    [mq.codes]                              # ccms.990 MsgPrcCd values ([NF] error codes)
    success = "PM1I0000"
    body_unreadable = "PM1E0002"

Every key can also come from the environment as ``PAYMSG_MQ_<KEY>`` (upper case:
``PAYMSG_MQ_CHANNEL``, ``PAYMSG_MQ_CONFIRM_TIMEOUT``; codes as ``PAYMSG_MQ_CODES_SUCCESS``),
which overrides the file; command-line options override both. :func:`load_settings`
reports every problem as a :class:`~paymsg.errors.ConfigError` naming the key and where it
came from.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paymsg.errors import ConfigError, PaymsgError
from paymsg.transport.channel import check_queue_name
from paymsg.transport.session import ReplyCodes

__all__ = ["ENV_PREFIX", "MQSettings", "load_handler", "load_settings"]

ENV_PREFIX = "PAYMSG_MQ_"


class CodeSettings(BaseModel):
    """``[mq.codes]``: the ccms.990 processing codes (see :class:`ReplyCodes`)."""

    model_config = ConfigDict(extra="forbid")

    success: str = ReplyCodes().success
    accepted: list[str] = Field(default_factory=lambda: sorted(ReplyCodes().accepted))
    header_unreadable: str = ReplyCodes().header_unreadable
    body_unreadable: str = ReplyCodes().body_unreadable
    signature_invalid: str = ReplyCodes().signature_invalid

    @field_validator("success", "header_unreadable", "body_unreadable", "signature_invalid")
    @classmethod
    def _code(cls, value: str) -> str:
        if not 1 <= len(value) <= 8 or not value.isascii() or not value.isalnum():
            raise ValueError(f"{value!r} is not a processing code (1-8 letters or digits)")
        return value

    def reply_codes(self) -> ReplyCodes:
        return ReplyCodes(
            success=self.success,
            accepted=frozenset([*self.accepted, self.success]),
            header_unreadable=self.header_unreadable,
            body_unreadable=self.body_unreadable,
            signature_invalid=self.signature_invalid,
        )


class MQSettings(BaseModel):
    """Everything ``paymsg mq`` and :class:`~paymsg.transport.Cnaps2Session` need."""

    channel: str = "sqlite:///paymsg-mq.db"
    journal: str = "sqlite:///paymsg-journal.db"
    participant: str | None = None
    out_queue: str = "MSGMBFE_1"
    in_queue: str = "MSGTOBANK_1"
    confirm_timeout: float = Field(60.0, gt=0)
    resend: int = Field(3, ge=0)
    resend_backoff: float = Field(2.0, ge=1)
    workers: int = Field(1, ge=1, le=256)
    handler: str | None = None
    handler_attempts: int = Field(3, ge=1)
    reply_header_ids: Literal["echo", "new"] = "echo"
    validate_: bool = Field(True, alias="validate")
    codes: CodeSettings = Field(default_factory=CodeSettings)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in ("sqlite", "amqp", "amqps", "ibmmq"):
            raise ValueError(
                f"{value!r} is not a channel URL (sqlite:///PATH, amqp://…, amqps://…, ibmmq://…)"
            )
        return value

    @field_validator("journal")
    @classmethod
    def _journal(cls, value: str) -> str:
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise ValueError(f"{value!r} is not a journal URL (sqlite:///PATH, postgresql://…)")
        return value

    @field_validator("participant")
    @classmethod
    def _participant(cls, value: str | None) -> str | None:
        if value is not None and not (
            value == "0000" or (len(value) == 12 and value.isascii() and value.isdigit())
        ):
            raise ValueError(f"{value!r} is not a 12-digit bank code (or 0000 for the NPC)")
        return value

    @field_validator("out_queue", "in_queue")
    @classmethod
    def _queue(cls, value: str) -> str:
        try:
            return check_queue_name(value)
        except PaymsgError as exc:
            raise ValueError(exc.message) from None

    @field_validator("handler")
    @classmethod
    def _handler(cls, value: str | None) -> str | None:
        if value is not None and (":" not in value or not value.rsplit(":", 1)[1]):
            raise ValueError(f"{value!r} is not MODULE:FUNCTION")
        return value


def _env_values(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    code_keys = set(CodeSettings.model_fields)
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or not raw:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key.startswith("codes_") and key[6:] in code_keys:
            code_key = key[6:]
            value: Any = [c.strip() for c in raw.split(",")] if code_key == "accepted" else raw
            values.setdefault("codes", {})[code_key] = value
        elif key in ("validate",):
            values["validate"] = raw
        elif key in MQSettings.model_fields:
            values[key] = raw
        else:
            known = sorted(k.upper() for k in MQSettings.model_fields if k != "validate_")
            raise ConfigError(
                f"unknown setting {name}",
                source="environment",
                field=name,
                hint="known: " + ", ".join(ENV_PREFIX + k for k in [*known, "VALIDATE"]),
            )
    return values


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> MQSettings:
    """Settings from ``path`` (TOML), then the environment, then ``overrides`` (None
    values in ``overrides`` are ignored, so CLI options that were not given change nothing)."""
    data: dict[str, Any] = {}
    #: where each setting came from, for the error that names it
    origin: dict[str, str] = {}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                loaded = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(
                f"cannot read the settings file: {exc.strerror}", source=str(path)
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", source=str(path)) from None
        table = loaded.get("mq", loaded)
        if not isinstance(table, dict):
            raise ConfigError("[mq] must be a table", source=str(path), field="mq")
        data.update(table)
        origin.update(dict.fromkeys(table, str(path)))
    from_env = _env_values(os.environ if env is None else env)
    if from_env:
        codes = {**data.get("codes", {}), **from_env.pop("codes", {})}
        data.update(from_env)
        origin.update({key: f"environment {ENV_PREFIX}{key.upper()}" for key in from_env})
        if codes:
            data["codes"] = codes
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
            origin[key] = "command line"
    try:
        return MQSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        came = origin.get(str(first["loc"][0]) if first["loc"] else "", "defaults")
        raise ConfigError(f"setting {where!r}: {message}", source=came, field=where) from None


def load_handler(spec: str) -> Callable[..., Any]:
    """The function named by ``MODULE:FUNCTION`` (a dotted module, or a ``.py`` file)."""
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise ConfigError(f"handler {spec!r} is not MODULE:FUNCTION", field="handler")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            name = f"paymsg_handler_{abs(hash(str(path.resolve())))}"
            spec_ = importlib.util.spec_from_file_location(name, path)
            if spec_ is None or spec_.loader is None or not path.is_file():
                raise ConfigError(f"handler file {module_name} not found", field="handler")
            module = importlib.util.module_from_spec(spec_)
            sys.modules[name] = module
            spec_.loader.exec_module(module)
        else:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"cannot import handler module {module_name!r}: {type(exc).__name__}: {exc}",
            field="handler",
        ) from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise ConfigError(f"{module_name} has no function {attr!r}", field="handler")
    return function
