"""The single error hierarchy of paymsg.

Every error a user can meet is a :class:`PaymsgError`. Each carries a one-line
``message`` saying what was wrong and, where known, ``where`` it happened (a file
path, ``line``/``column``, an element path, or a byte ``offset`` into an envelope),
plus an optional ``hint`` saying how to fix it. The CLI prints ``str(error)`` and
exits with ``error.exit_code``; no library traceback reaches a CLI user.
"""

from __future__ import annotations


class PaymsgError(Exception):
    """Base class of every paymsg error."""

    #: exit code used by the CLI when this error ends a command
    exit_code: int = 2

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
        offset: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        self.path = path
        self.offset = offset
        self.field = field
        self.hint = hint

    @property
    def where(self) -> str:
        """Human-readable location: ``file:line:column``, element path, byte offset."""
        parts: list[str] = []
        loc = self.source or ""
        if self.line is not None:
            loc += f":{self.line}" if loc else f"line {self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        if loc:
            parts.append(loc)
        if self.path:
            parts.append(self.path)
        if self.offset is not None:
            parts.append(f"offset {self.offset}")
        return ", ".join(parts)

    def with_source(self, source: str) -> PaymsgError:
        """Return this error with the input's name filled in (if it had none)."""
        if self.source is None:
            self.source = source
        return self

    def __str__(self) -> str:
        text = self.message
        where = self.where
        if where:
            text = f"{where}: {text}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class InputError(PaymsgError):
    """The input could not be read at all (missing file, unreadable bytes, bad JSON)."""


class UnsafeXMLError(PaymsgError):
    """The XML uses a construct refused for safety (DOCTYPE, entities) or breaks a limit."""


class MalformedXMLError(PaymsgError):
    """The input is not well-formed XML."""


class UnknownMessageTypeError(PaymsgError):
    """No catalogued message type matches the input or the requested type id."""


class BindingError(PaymsgError):
    """The XML or JSON does not fit the message model (unknown element, wrong value type)."""


class EnvelopeError(PaymsgError):
    """An envelope (CNAPS2 ``{H:}`` header or signature block, BAH wrapper) is malformed."""


class SignatureError(PaymsgError):
    """A signature could not be produced, or did not verify."""

    exit_code = 1  # the message was read; the check failed


class CodegenError(PaymsgError):
    """Code generation from XSD failed."""

    exit_code = 3


class ConfigError(PaymsgError):
    """A configuration or data file (catalogue, signing profile, ...) is invalid."""

    exit_code = 3


class ConversionError(PaymsgError):
    """A conversion is not possible, or (with ``strict=True``) would lose data."""


class ConversionLossError(ConversionError):
    """``strict=True`` refused a conversion because it would lose the fields named."""

    exit_code = 1


class TransportError(PaymsgError):
    """A message channel (embedded queue, RabbitMQ, IBM MQ) failed: unreachable broker,
    unconfirmed put, lost connection past the reconnect deadline.

    An environment problem, not bad input: the CLI exits with 3, like :class:`ConfigError`.
    """

    exit_code = 3


class JournalError(PaymsgError):
    """The message journal refused an operation or its database failed: an impossible
    status transition (naming both states), an unknown entry id, a database at a schema
    revision this paymsg does not know, an unreachable or locked database.

    The CLI exits with 3 (an environment or state problem, like :class:`ConfigError`).
    """

    exit_code = 3


class ValidationFailedError(PaymsgError):
    """A message was refused before sending because validation found errors; ``report``
    holds every finding."""

    exit_code = 1  # the message was read; the check failed

    def __init__(self, message: str, *, report: object = None, **where: object) -> None:
        super().__init__(message, **where)  # type: ignore[arg-type]
        self.report = report


class RuleSetError(ConfigError):
    """A routing rule set was refused by its checks (conflicting rules, an unreachable
    rule, payments no rule covers); ``problems`` lists each one, naming the rules."""

    exit_code = 1  # the rule set was read; the check failed

    def __init__(self, message: str, *, problems: list[str] | None = None, **where: object) -> None:
        super().__init__(message, **where)  # type: ignore[arg-type]
        self.problems = list(problems or [])


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***``: how every URL (a channel, a journal, a
    database) is named in errors, logs, status and reports."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=-1)
    netloc, tail = (rest, "") if cut < 0 else (rest[:cut], rest[cut:])
    if "@" not in netloc:
        return url
    userinfo, host = netloc.rsplit("@", 1)
    user, colon, _password = userinfo.partition(":")
    if not colon:
        return url
    return f"{scheme}://{user}:***@{host}{tail}"
