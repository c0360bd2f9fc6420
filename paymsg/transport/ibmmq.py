"""IBM MQ channel (``ibmmq://``) through IBM's own ``ibmmq`` Python package, in client mode.

**Untested here.** IBM's package needs IBM's MQ client library (the redistributable MQ
client, ``libmqm_r``), which is not available on this project's machines, so this module
has never talked to a queue manager. It is written from IBM's documented MQI and the
``ibmmq`` package's API and runs the same conformance suite as the other channels when
``PAYMSG_IBMMQ_URL`` and ``PAYMSG_IBMMQ_QUEUES`` are set (see
``tests/transport/conftest.py``). Install with ``pip install "paymsg[ibmmq]"`` plus IBM's
MQ client; ``import paymsg`` and ``import paymsg.transport`` work without either.

URL::

    ibmmq://[USER[:PASSWORD]@]HOST[:PORT][,HOST2[:PORT2]…]/QMGR/CHANNEL[?option=value&…]

``HOST:PORT`` pairs form the MQ connection name ``HOST(PORT)[,HOST2(PORT2)]`` (port 1414
when omitted; several hosts give a multi-instance queue manager). ``QMGR`` is the queue
manager name, ``CHANNEL`` the server-connection channel (e.g. ``DEV.APP.SVRCONN``). The user
and password, when given, are sent in an MQCSP (user id and password authentication).
Options (also keyword arguments of :func:`~paymsg.transport.open_channel`, which win):

``tls_cipher``
    the channel's ``SSLCIPH`` (e.g. ``ANY_TLS12_OR_HIGHER``); enables TLS.
``key_repository``
    the client key repository stem (``/var/mqm/ssl/key`` for ``key.kdb``/``key.p12``).
``cert_label``
    the client certificate label in that repository.
``backout_queue``
    where rejected (``requeue=False``) and over-delivered messages go; ``{queue}`` is
    replaced by the queue name. Default: the queue's ``BOQNAME`` if it has one, else
    ``{queue}.dlq``.
``delivery_limit``
    deliveries before a message is moved to the backout queue. Default: the queue's
    ``BOTHRESH`` if set, else 5.
``reconnect`` (``qmgr`` | ``any`` | ``off``, default ``qmgr``)
    ``MQCNO_RECONNECT_Q_MGR`` (reconnect to the same queue manager - the right choice for
    local queues), ``MQCNO_RECONNECT`` (any queue manager of the connection name list) or
    ``MQCNO_RECONNECT_DISABLED``. On top of the client's own reconnection, an operation
    whose connection is broken reconnects with backoff until ``reconnect_deadline``.
``reconnect_deadline`` (seconds, default 60)
``heartbeat`` (seconds, default 60): the client channel's heartbeat interval.
``max_in_flight`` (default 8): un-acknowledged deliveries one channel object may hold.

How the contract maps to the MQI:

* ``declare`` does not create queues (in IBM MQ an administrator defines them); it opens
  the queue and its backout queue for inquire and raises ``TransportError`` naming the
  MQSC to run when one is missing, e.g.::

      DEFINE QLOCAL('PAYMSG.IN') DEFPSIST(YES) HARDENBO BOTHRESH(5) BOQNAME('PAYMSG.IN.dlq')
      DEFINE QLOCAL('PAYMSG.IN.dlq') DEFPSIST(YES)

  (``HARDENBO`` keeps the backout count exact across a queue manager restart.)
* ``put``: ``MQPUT`` with ``MQPMO_SYNCPOINT``, persistent, format ``MQSTR``, CCSID 1208,
  then ``MQCMIT``; it returns after the commit. Puts use their own connection, so a
  commit never touches an un-acknowledged get. Application properties travel as one
  message property ``paymsgProperties`` (JSON) - only when there are any: a message with
  properties reaches an application that does not ask for them with an MQRFH2 header in
  front of the body, so never give properties to a put towards the CNAPS front end.
* ``get``: ``MQGET`` with ``MQGMO_SYNCPOINT | MQGMO_WAIT | MQGMO_FAIL_IF_QUIESCING`` and no
  conversion (the bytes arrive untouched), each outstanding delivery on a connection of
  its own (a unit of work covers a whole connection); ``delivery_count`` is
  ``BackoutCount + 1``. A message whose next delivery would exceed the delivery limit is
  put to the backout queue and the get committed, in one unit of work.
* ``ack`` = ``MQCMIT`` on the delivery's connection; ``reject(requeue=True)`` = ``MQBACK``
  (the backout count grows); ``reject(requeue=False)`` = put to the backout queue and get
  committed together.
* a consumer that dies or loses its connection leaves an uncommitted unit of work, which
  the queue manager backs out: the message is available again with its backout count
  raised. ``ack``/``reject`` of a delivery whose connection broke raise ``TransportError``.
* ``depth`` is ``CURDEPTH``, which also counts messages other consumers hold uncommitted.

A channel object belongs to one thread at a time. Fastest correct use: one channel per
worker thread, kept open; ``get`` with a timeout (the queue manager waits, no polling).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

from paymsg.errors import ConfigError, InputError, TransportError
from paymsg.transport.channel import (
    DEFAULT_DELIVERY_LIMIT,
    DLQ_SUFFIX,
    Delivery,
    ack_each,
    check_message,
    check_queue_name,
    dlq_name,
    mask_url,
    take_each,
)

__all__ = ["IBMMQChannel", "IBMMQSettings", "parse_ibmmq_url"]

T = TypeVar("T")

_OPTIONS = (
    "tls_cipher",
    "key_repository",
    "cert_label",
    "backout_queue",
    "delivery_limit",
    "reconnect",
    "reconnect_deadline",
    "heartbeat",
    "max_in_flight",
)
_PROPERTY = "paymsgProperties"
_NAME = re.compile(r"^[A-Za-z0-9._/%]{1,48}$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$")

# MQI reason codes (values from IBM's cmqc.h) that mean "the connection is gone"
_CONNECTION_LOST = {
    2009,  # MQRC_CONNECTION_BROKEN
    2018,  # MQRC_HCONN_ERROR
    2019,  # MQRC_HOBJ_ERROR
    2059,  # MQRC_Q_MGR_NOT_AVAILABLE
    2161,  # MQRC_Q_MGR_QUIESCING
    2162,  # MQRC_Q_MGR_STOPPING
    2202,  # MQRC_CONNECTION_QUIESCING
    2203,  # MQRC_CONNECTION_STOPPING
    2537,  # MQRC_CHANNEL_NOT_AVAILABLE
    2538,  # MQRC_HOST_NOT_AVAILABLE
    2548,  # MQRC_RECONNECT_FAILED
    2549,  # MQRC_CALL_INTERRUPTED
}
_BACKED_OUT = 2003  # MQRC_BACKED_OUT
_NO_MSG_AVAILABLE = 2033
_NOT_AUTHORIZED = 2035
_UNKNOWN_OBJECT_NAME = 2085
_PROPERTY_NOT_AVAILABLE = 2471


@dataclass(frozen=True)
class IBMMQSettings:
    """An ``ibmmq://`` URL, parsed and checked (no IBM library needed)."""

    queue_manager: str
    channel: str
    connection_name: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tls_cipher: str | None = None
    key_repository: str | None = None
    cert_label: str | None = None
    backout_queue: str | None = None
    delivery_limit: int | None = None
    reconnect: str = "qmgr"
    reconnect_deadline: float = 60.0
    heartbeat: int = 60
    max_in_flight: int = 8


def _bad(url: str, message: str, **kw: Any) -> ConfigError:
    return ConfigError(
        message,
        source=mask_url(url),
        field=kw.pop("field", "channel"),
        hint=kw.pop("hint", "use ibmmq://[USER[:PASSWORD]@]HOST[:PORT]/QMGR/CHANNEL[?options]"),
    )


def parse_ibmmq_url(url: str, **options: Any) -> IBMMQSettings:
    """Parse and check an ``ibmmq://`` URL; ``options`` override its query."""
    if not url.lower().startswith("ibmmq://"):
        raise _bad(url, f"not an ibmmq URL: {mask_url(url)!r}")
    rest = url[len("ibmmq://") :]
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    user = password = None
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user_part, sep, password_part = userinfo.partition(":")
        user = unquote(user_part) or None
        password = unquote(password_part) if sep else None
    hosts = []
    for host in netloc.split(","):
        match = _HOST.match(host)
        if not match:
            raise _bad(url, f"bad host {host!r} in ibmmq URL {mask_url(url)!r}")
        port = int(match.group(2) or 1414)
        if not 0 < port < 65536:
            raise _bad(url, f"bad port {port} in ibmmq URL {mask_url(url)!r}")
        hosts.append(f"{match.group(1)}({port})")
    names = [unquote(p) for p in path.split("/")]
    if len(names) != 2 or not all(names):
        raise _bad(url, f"ibmmq URL {mask_url(url)!r} must name /QMGR/CHANNEL after the hosts")
    qmgr, channel = names
    if not _NAME.match(qmgr):
        raise _bad(url, f"bad queue manager name {qmgr!r}")
    if not re.match(r"^[A-Za-z0-9._/%]{1,20}$", channel):
        raise _bad(url, f"bad channel name {channel!r} (at most 20 characters)")
    settings: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    settings.update(options)
    unknown = sorted(set(settings) - set(_OPTIONS))
    if unknown:
        raise _bad(
            url,
            f"unknown ibmmq channel option {unknown[0]!r}",
            field=unknown[0],
            hint="known options: " + ", ".join(_OPTIONS),
        )

    def number(name: str, kind: type, minimum: float) -> Any:
        if name not in settings:
            return None
        try:
            value = kind(settings[name])
        except (TypeError, ValueError):
            raise _bad(
                url,
                f"channel option {name}={settings[name]!r} is not a number",
                field=name,
                hint=f"give {name} as a {kind.__name__}",
            ) from None
        if value < minimum:
            raise _bad(
                url,
                f"channel option {name}={value!r} must be at least {minimum}",
                field=name,
                hint=f"give {name} >= {minimum}",
            )
        return value

    reconnect = str(settings.get("reconnect", "qmgr")).lower()
    if reconnect not in ("qmgr", "any", "off"):
        raise _bad(
            url,
            f"channel option reconnect={reconnect!r}",
            field="reconnect",
            hint="reconnect is qmgr, any or off",
        )
    backout = settings.get("backout_queue")
    if backout is not None:
        check_queue_name(str(backout).replace("{queue}", "Q"))
    return IBMMQSettings(
        queue_manager=qmgr,
        channel=channel,
        connection_name=",".join(hosts),
        user=user,
        password=password,
        tls_cipher=settings.get("tls_cipher") or None,
        key_repository=settings.get("key_repository") or None,
        cert_label=settings.get("cert_label") or None,
        backout_queue=backout,
        delivery_limit=number("delivery_limit", int, 1),
        reconnect=reconnect,
        reconnect_deadline=number("reconnect_deadline", float, 0) or 60.0,
        heartbeat=number("heartbeat", int, 0) or 60,
        max_in_flight=number("max_in_flight", int, 1) or 8,
    )


def _load_ibmmq() -> Any:
    try:
        import ibmmq
    except ImportError as exc:  # the package, or IBM's client library under it, is missing
        raise ConfigError(
            f"the IBM MQ channel needs IBM's ibmmq package and IBM's MQ client library ({exc})",
            field="channel",
            hint='pip install "paymsg[ibmmq]" and install the IBM MQ redistributable client',
        ) from None
    return ibmmq


class _Lost(Exception):
    """Internal: the connection broke; reconnect and retry."""


class _Connection:
    """One MQ connection (hconn) with its open queues; a unit of work spans all of it."""

    def __init__(self, mq: Any, settings: IBMMQSettings) -> None:
        self.mq = mq
        cmqc, cmqxc = mq.CMQC, mq.CMQXC
        cd = mq.CD()
        cd.ChannelName = settings.channel.encode()
        cd.ConnectionName = settings.connection_name.encode()
        cd.ChannelType = cmqxc.MQCHT_CLNTCONN
        cd.TransportType = cmqxc.MQXPT_TCP
        cd.HeartbeatInterval = settings.heartbeat
        sco = mq.SCO()
        if settings.tls_cipher:
            cd.SSLCipherSpec = settings.tls_cipher.encode()
            if settings.key_repository:
                sco.KeyRepository = settings.key_repository.encode()
            if settings.cert_label:
                sco.CertificateLabel = settings.cert_label.encode()
        cno = mq.CNO()
        cno.Options = (
            cmqc.MQCNO_CLIENT_BINDING
            | {
                "qmgr": cmqc.MQCNO_RECONNECT_Q_MGR,
                "any": cmqc.MQCNO_RECONNECT,
                "off": cmqc.MQCNO_RECONNECT_DISABLED,
            }[settings.reconnect]
        )
        csp = mq.CSP()
        if settings.user:
            csp.AuthenticationType = cmqc.MQCSP_AUTH_USER_ID_AND_PWD
            csp.CSPUserId = settings.user
            csp.CSPPassword = settings.password or ""
        self.qmgr = mq.QueueManager(None)
        self.qmgr.connect_with_options(settings.queue_manager, cd=cd, sco=sco, cno=cno, csp=csp)
        self._inputs: dict[str, Any] = {}
        self._outputs: dict[str, Any] = {}

    def input(self, queue: str) -> Any:
        handle = self._inputs.get(queue)
        if handle is None:
            cmqc = self.mq.CMQC
            handle = self.mq.Queue(
                self.qmgr, queue, cmqc.MQOO_INPUT_SHARED | cmqc.MQOO_FAIL_IF_QUIESCING
            )
            self._inputs[queue] = handle
        return handle

    def output(self, queue: str) -> Any:
        handle = self._outputs.get(queue)
        if handle is None:
            cmqc = self.mq.CMQC
            handle = self.mq.Queue(self.qmgr, queue, cmqc.MQOO_OUTPUT | cmqc.MQOO_FAIL_IF_QUIESCING)
            self._outputs[queue] = handle
        return handle

    def put(self, queue: str, body: bytes, properties: Mapping[str, str], *, commit: bool) -> None:
        mq, cmqc = self.mq, self.mq.CMQC
        md = mq.MD()
        md.Format = cmqc.MQFMT_STRING
        md.CodedCharSetId = 1208  # UTF-8
        md.Persistence = cmqc.MQPER_PERSISTENT
        pmo = mq.PMO()
        pmo.Options = cmqc.MQPMO_SYNCPOINT | cmqc.MQPMO_NEW_MSG_ID | cmqc.MQPMO_FAIL_IF_QUIESCING
        handle = None
        if properties:
            handle = mq.MessageHandle(self.qmgr)
            handle.properties.set(_PROPERTY, json.dumps(dict(properties), ensure_ascii=False))
            pmo.OriginalMsgHandle = handle.msg_handle
        try:
            self.output(queue).put(body, md, pmo)
        finally:
            if handle is not None:
                handle.dlt()
        if commit:
            self.qmgr.commit()

    def get(self, queue: str, wait_ms: int) -> tuple[bytes, Any, dict[str, str]] | None:
        mq, cmqc = self.mq, self.mq.CMQC
        md = mq.MD()
        gmo = mq.GMO()
        gmo.Options = (
            cmqc.MQGMO_SYNCPOINT
            | cmqc.MQGMO_FAIL_IF_QUIESCING
            | cmqc.MQGMO_PROPERTIES_IN_HANDLE
            | (cmqc.MQGMO_WAIT if wait_ms > 0 else cmqc.MQGMO_NO_WAIT)
        )
        gmo.WaitInterval = max(0, wait_ms)
        handle = mq.MessageHandle(self.qmgr)
        gmo.MsgHandle = handle.msg_handle
        try:
            try:
                body = self.input(queue).get(None, md, gmo)
            except mq.MQMIError as exc:
                if exc.reason == _NO_MSG_AVAILABLE:
                    return None
                raise
            properties: dict[str, str] = {}
            try:
                raw = handle.properties.get(_PROPERTY, max_value_length=1 << 20)
            except mq.MQMIError as exc:
                if exc.reason != _PROPERTY_NOT_AVAILABLE:
                    raise
            else:
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                properties = {str(k): str(v) for k, v in json.loads(text).items()}
            return bytes(body), md, properties
        finally:
            handle.dlt()

    def inquire(self, queue: str, *selectors: int) -> list[Any]:
        cmqc = self.mq.CMQC
        handle = self.mq.Queue(self.qmgr, queue, cmqc.MQOO_INQUIRE | cmqc.MQOO_FAIL_IF_QUIESCING)
        try:
            return [handle.inquire(selector) for selector in selectors]
        finally:
            handle.close()

    def close(self) -> None:
        for handle in [*self._inputs.values(), *self._outputs.values()]:
            # a broken connection cannot close handles: the disconnect below releases them
            with contextlib.suppress(Exception):
                handle.close()
        self._inputs.clear()
        self._outputs.clear()
        with contextlib.suppress(Exception):
            self.qmgr.disconnect()  # backs out an open unit of work


@dataclass
class _Held:
    queue: str
    connection: _Connection
    md: Any
    body: bytes
    properties: dict[str, str]


class IBMMQChannel:
    """A :class:`~paymsg.transport.Channel` on IBM MQ (see the module docstring). Untested here."""

    def __init__(self, url: str, **options: Any) -> None:
        self.settings = parse_ibmmq_url(url, **options)
        self._mq = _load_ibmmq()
        self.url = mask_url(url)
        self._put_connection: _Connection | None = None
        self._idle: list[_Connection] = []
        self._held: dict[str, _Held] = {}
        self._limits: dict[str, tuple[int, str]] = {}  # queue -> (delivery limit, backout q)
        self._sequence = 0
        self._closed = False
        self._run(lambda: self._put_conn(), "connect")

    def __repr__(self) -> str:
        return f"IBMMQChannel({self.url!r})"

    # ------------------------------------------------------------------ connections
    def _connect(self) -> _Connection:
        try:
            return _Connection(self._mq, self.settings)
        except self._mq.MQMIError as exc:
            if exc.reason == _NOT_AUTHORIZED:
                raise TransportError(
                    "the queue manager refused the connection (MQRC_NOT_AUTHORIZED): check the "
                    "user, password, channel authentication records and TLS settings",
                    source=self.url,
                ) from None
            if exc.reason in _CONNECTION_LOST:
                raise _Lost(str(exc)) from None
            raise TransportError(f"cannot connect: {exc}", source=self.url) from None

    def _put_conn(self) -> _Connection:
        if self._put_connection is None:
            self._put_connection = self._connect()
        return self._put_connection

    def _get_conn(self) -> _Connection:
        if self._idle:
            return self._idle.pop()
        if len(self._held) >= self.settings.max_in_flight:
            raise TransportError(
                f"{len(self._held)} deliveries are not acknowledged yet "
                f"(max_in_flight={self.settings.max_in_flight}); ack or reject some first",
                source=self.url,
            )
        return self._connect()

    def _run(self, operation: Callable[[], T], what: str) -> T:
        if self._closed:
            raise TransportError("channel is closed", source=self.url)
        deadline = time.monotonic() + self.settings.reconnect_deadline
        pause = 0.1
        while True:
            try:
                return operation()
            except _Lost as exc:
                last = str(exc)
            except self._mq.MQMIError as exc:
                if exc.reason not in _CONNECTION_LOST:
                    raise self._refused(exc, what) from None
                last = str(exc)
                self._forget_connections()
            if time.monotonic() + pause > deadline:
                raise TransportError(
                    f"{what}: connection to the queue manager lost and not re-established "
                    f"within {self.settings.reconnect_deadline:g} s ({last})",
                    source=self.url,
                )
            time.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _forget_connections(self) -> None:
        """Drop the put and idle connections (held deliveries keep theirs until ack/reject)."""
        for connection in [*self._idle, *([self._put_connection] if self._put_connection else [])]:
            connection.close()
        self._idle.clear()
        self._put_connection = None

    def _refused(self, exc: Any, what: str) -> TransportError:
        if exc.reason == _UNKNOWN_OBJECT_NAME:
            return TransportError(
                f"{what}: no such queue on queue manager {self.settings.queue_manager} "
                "(MQRC_UNKNOWN_OBJECT_NAME)",
                source=self.url,
                hint="an administrator defines IBM MQ queues; see paymsg.transport.ibmmq",
            )
        if exc.reason == _NOT_AUTHORIZED:
            return TransportError(f"{what}: not authorised (MQRC_NOT_AUTHORIZED)", source=self.url)
        return TransportError(f"{what}: {exc}", source=self.url)

    # ------------------------------------------------------------------ declare
    def _limits_for(self, queue: str) -> tuple[int, str]:
        known = self._limits.get(queue)
        if known is not None:
            return known
        cmqc = self._mq.CMQC
        threshold, boqname = self._run(
            lambda: self._put_conn().inquire(
                queue, cmqc.MQIA_BACKOUT_THRESHOLD, cmqc.MQCA_BACKOUT_REQ_Q_NAME
            ),
            f"inquire {queue!r}",
        )
        name = boqname.decode().strip() if isinstance(boqname, bytes) else str(boqname).strip()
        if self.settings.backout_queue:
            backout = self.settings.backout_queue.replace("{queue}", queue)
        else:
            backout = name or dlq_name(queue)
        limit = self.settings.delivery_limit or int(threshold) or DEFAULT_DELIVERY_LIMIT
        self._limits[queue] = (limit, backout)
        return limit, backout

    def declare(self, queue: str) -> None:
        """Check that ``queue`` and its backout queue exist (they are defined by an admin)."""
        check_queue_name(queue)
        if queue.endswith(DLQ_SUFFIX):
            self._run(lambda: self._put_conn().inquire(queue), f"declare {queue!r}")
            return
        try:
            _, backout = self._limits_for(queue)
            self._run(lambda: self._put_conn().inquire(backout), f"declare {backout!r}")
        except TransportError as exc:
            if "UNKNOWN_OBJECT_NAME" in exc.message:
                raise TransportError(
                    exc.message,
                    source=self.url,
                    hint=(
                        f"DEFINE QLOCAL('{queue}') DEFPSIST(YES) HARDENBO BOTHRESH("
                        f"{self.settings.delivery_limit or DEFAULT_DELIVERY_LIMIT}) "
                        f"BOQNAME('{dlq_name(queue)}') and DEFINE QLOCAL('{dlq_name(queue)}') "
                        "DEFPSIST(YES)"
                    ),
                ) from None
            raise

    # ------------------------------------------------------------------ put / get
    def put(self, queue: str, body: bytes, properties: Mapping[str, str] | None = None) -> None:
        """``MQPUT`` under syncpoint, then ``MQCMIT``; returns after the commit."""
        check_queue_name(queue)
        props = check_message(body, properties)
        message = bytes(body)
        self._run(
            lambda: self._put_conn().put(queue, message, props, commit=True), f"put to {queue!r}"
        )

    def put_many(
        self, queue: str, bodies: Sequence[bytes], properties: Mapping[str, str] | None = None
    ) -> None:
        """``MQPUT`` each body and ``MQCMIT`` each, in order; returns after the last
        commit. Untested here (no IBM MQ server)."""
        for body in bodies:
            self.put(queue, body, properties)

    def get(self, queue: str, timeout: float = 0.0) -> Delivery | None:
        """``MQGET`` under syncpoint on a connection of its own, waiting up to ``timeout``."""
        check_queue_name(queue)
        limit, backout = (0, "") if queue.endswith(DLQ_SUFFIX) else self._limits_for(queue)
        start = time.monotonic()
        deadline = start + max(0.0, timeout)
        give_up = max(deadline, start + self.settings.reconnect_deadline)
        while True:
            connection = self._run(self._get_conn, f"get from {queue!r}")
            wait_ms = int(max(0.0, deadline - time.monotonic()) * 1000)
            try:
                got = connection.get(queue, wait_ms)
            except self._mq.MQMIError as exc:
                connection.close()
                if exc.reason not in _CONNECTION_LOST:
                    raise self._refused(exc, f"get from {queue!r}") from None
                if time.monotonic() > give_up:
                    raise TransportError(
                        f"get from {queue!r}: the connection keeps breaking ({exc})",
                        source=self.url,
                    ) from None
                time.sleep(0.1)
                continue  # a fresh connection next time round
            if got is None:
                self._idle.append(connection)
                return None
            body, md, properties = got
            count = int(md.BackoutCount) + 1
            if limit and count > limit:
                # delivered `limit` times already: to the backout queue, in this unit of work
                try:
                    connection.put(backout, body, properties, commit=True)
                except self._mq.MQMIError as exc:
                    connection.close()  # backs the get out; the message stays where it was
                    raise self._refused(exc, f"move to backout queue {backout!r}") from None
                self._idle.append(connection)
                continue
            self._sequence += 1
            tag = f"{self._sequence}"
            self._held[tag] = _Held(queue, connection, md, body, properties)
            return Delivery(
                queue=queue, body=body, tag=tag, delivery_count=count, properties=properties
            )

    def get_many(self, queue: str, limit: int, timeout: float = 0.0) -> list[Delivery]:
        """:meth:`get` repeated: up to ``limit`` messages (and no more than ``max_in_flight``
        held at once), each in its own unit of work. Untested here (no IBM MQ server)."""
        room = self.settings.max_in_flight - len(self._held)
        return take_each(self, queue, max(1, min(limit, room)), timeout)

    # ------------------------------------------------------------------ ack / reject
    def _take_held(self, delivery: Delivery, action: str) -> _Held:
        held = self._held.pop(delivery.tag, None)
        if held is None:
            raise TransportError(
                f"cannot {action} message {delivery.tag} from {delivery.queue!r}: this channel "
                "does not hold it (already acknowledged or rejected)",
                source=self.url,
            )
        return held

    def _finish(
        self, held: _Held, delivery: Delivery, action: str, step: Callable[[], None]
    ) -> None:
        try:
            step()
        except self._mq.MQMIError as exc:
            held.connection.close()
            if exc.reason in _CONNECTION_LOST or exc.reason == _BACKED_OUT:
                raise TransportError(
                    f"cannot {action} message {delivery.tag} from {delivery.queue!r}: the "
                    f"connection broke ({exc}); the queue manager backed it out and delivers "
                    "it again",
                    source=self.url,
                ) from None
            raise self._refused(exc, f"{action} on {delivery.queue!r}") from None
        self._idle.append(held.connection)

    def ack(self, delivery: Delivery) -> None:
        """``MQCMIT`` the delivery's unit of work: the message is gone for good."""
        held = self._take_held(delivery, "acknowledge")
        self._finish(held, delivery, "acknowledge", held.connection.qmgr.commit)

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """:meth:`ack` each (one ``MQCMIT`` per unit of work). Untested here."""
        ack_each(self, deliveries)

    def reject(self, delivery: Delivery, *, requeue: bool) -> None:
        """``MQBACK`` (requeue), or move to the backout queue and commit (requeue=False)."""
        if not requeue and delivery.queue.endswith(DLQ_SUFFIX):
            raise InputError(
                f"message {delivery.tag} is already in dead-letter queue {delivery.queue!r}: "
                "ack it to remove it, or requeue it",
                field="requeue",
            )
        held = self._take_held(delivery, "reject")
        if requeue:
            self._finish(held, delivery, "requeue", held.connection.qmgr.backout)
            return
        _, backout = self._limits_for(delivery.queue)
        self._finish(
            held,
            delivery,
            "reject",
            lambda: held.connection.put(backout, held.body, held.properties, commit=True),
        )

    # ------------------------------------------------------------------ status / close
    def depth(self, queue: str) -> int:
        """``CURDEPTH`` of ``queue`` minus the messages this channel holds uncommitted."""
        check_queue_name(queue)
        cmqc = self._mq.CMQC
        (current,) = self._run(
            lambda: self._put_conn().inquire(queue, cmqc.MQIA_CURRENT_Q_DEPTH),
            f"depth of {queue!r}",
        )
        mine = sum(1 for held in self._held.values() if held.queue == queue)
        return max(0, int(current) - mine)

    def close(self) -> None:
        """Disconnect; uncommitted gets are backed out and delivered again (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for held in self._held.values():
            held.connection.close()
        self._held.clear()
        self._forget_connections()

    def __enter__(self) -> IBMMQChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
