"""Publishing to RabbitMQ for less: a batch with one wait for its confirmations (``BatchPublisher``, the outbox
relay's), and single messages on channels kept open (``PooledPublisher``, RPC requests and replies).

nameko's ``Publisher`` takes a pooled connection, publishes one message and waits for its confirmation, for every
message: a round trip to the broker and a pool checkout each. The relay publishes a batch of outbox rows at once,
so ``BatchPublisher`` keeps one channel in confirm mode open, writes the whole batch, and then waits until the
broker has confirmed every message of it. It answers only when all are confirmed, and raises otherwise (a
negative confirmation, a broken connection, no answer within ``timeout``): the relay then leaves the rows
unpublished and sends them again later, which the consumers' inbox makes harmless.

Neither waits for ever on a connection that went silent (a network partition: no reset, no end, nothing comes
back): a confirmation is awaited at most ``CONFIRM_TIMEOUT`` seconds, and a connection is closed without waiting
more than ``CLOSE_GRACE`` for the broker's answer (``_bounded_amqp_connection``, for every connection). Without
these bounds one silent connection held every worker that published on it, and the gateway stopped answering
(tests/faults: ``test_broker_partitioned``).
"""
import errno
import logging
import os
import socket
import time

import amqp
import eventlet
from amqp import Message
from amqp.exceptions import ChannelError, ConnectionForced, RecoverableConnectionError
from amqp.exceptions import ConnectionError as AmqpConnectionError
from eventlet.semaphore import Semaphore
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError
from kombu.serialization import dumps as kombu_dumps
from kombu.utils import json
from nameko.amqp.publish import Publisher, UndeliverableMessage

log = logging.getLogger(__name__)

CONNECTION_ERRORS = (OSError, socket.timeout, AmqpConnectionError, RecoverableConnectionError)
CONFIRM_TIMEOUT = 10.0  # seconds: a publisher confirmation takes milliseconds; this long means the connection is dead
CLOSE_GRACE = 1.0  # seconds given to the broker to answer a close before the socket is simply dropped
CONNECT_TIMEOUT = 5.0  # seconds for a publishing connection to be made, its AMQP handshake included


def _bounded_amqp_connection():
    """Two waits of py-amqp's ``Connection`` that have no bound, bounded for every connection of the process
    (nameko's consumers, kombu's pools and ours alike): applied once, when kit.amqp is imported.

    - ``heartbeat_tick`` raises when two heartbeats were missed, and kombu's consumer loop then *closes* the
      connection: a Close sent into a silent connection, and a wait for its Close-Ok for ever. The consumer never
      reconnected (tests/faults: ``test_broker_partitioned``). The connection is dropped first now, so the close
      has nothing left to wait for.
    - ``close`` waits for the broker's Close-Ok at most ``CLOSE_GRACE`` seconds, then drops the socket.
    """
    if getattr(amqp.Connection, "_khademyar_bounded", False):
        return
    tick, close = amqp.Connection.heartbeat_tick, amqp.Connection.close

    def heartbeat_tick(self, *args, **kwargs):
        try:
            return tick(self, *args, **kwargs)
        except ConnectionForced:
            log.warning("the broker missed two heartbeats: dropping the connection to make a new one")
            self.collect()
            raise

    def bounded_close(self, *args, **kwargs):
        timer = eventlet.Timeout(CLOSE_GRACE)
        try:
            return close(self, *args, **kwargs)
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            log.debug("the broker did not answer a close within %.1f s: dropping the connection", CLOSE_GRACE)
            self.collect()
        finally:
            timer.cancel()

    amqp.Connection.heartbeat_tick = heartbeat_tick
    amqp.Connection.close = bounded_close
    amqp.Connection._khademyar_bounded = True


_bounded_amqp_connection()

READ_CHUNK = int(os.environ.get("AMQP_READ_CHUNK", "16384"))  # bytes asked of the socket at once; 0: py-amqp's reads


def _chunked_reads():
    """py-amqp reads each frame with recv calls of its exact size: the 7-byte header, then the payload and its end
    octet. A message is three frames, so six system calls, each through eventlet's green socket, for one delivery
    that arrived in one piece; an RPC cost the gateway about fifteen reads. Applied once, when kit.amqp is
    imported: the socket is asked for up to ``READ_CHUNK`` bytes, and what is left over waits in the transport's
    own read buffer (py-amqp's ``_read_buffer``, which it already keeps for a read cut by a timeout) for the next
    frame. Nothing waits on the socket's readiness while frames sit in that buffer: py-amqp and kombu read a frame
    by calling ``read_frame``, which takes from the buffer first."""
    from amqp.transport import TCPTransport

    if getattr(TCPTransport, "_khademyar_chunked", False) or READ_CHUNK <= 0:
        return

    def _read(self, n, initial=False, _errnos=(errno.EAGAIN, errno.EINTR)):
        rbuf = self._read_buffer
        if len(rbuf) >= n:
            self._read_buffer = rbuf[n:]
            return rbuf[:n]
        recv = self._quick_recv
        try:
            while len(rbuf) < n:
                try:
                    s = recv(max(n - len(rbuf), READ_CHUNK))
                except OSError as exc:
                    if exc.errno in _errnos:
                        if initial and self.raise_on_initial_eintr:
                            raise socket.timeout() from None
                        continue
                    raise
                if not s:
                    raise OSError("Server unexpectedly closed connection")
                rbuf += s
        except BaseException:
            self._read_buffer = rbuf  # kept for the next read, as py-amqp does
            raise
        result, self._read_buffer = rbuf[:n], rbuf[n:]
        return result

    TCPTransport._read = _read
    TCPTransport._khademyar_chunked = True


_chunked_reads()


def drop(connection, wait=True):
    """Close a kombu ``connection``: with the broker's Close-Ok awaited (at most ``CLOSE_GRACE`` seconds, see
    above), or, without ``wait``, by dropping the socket without a word (a connection that failed)."""
    if connection is None:
        return
    try:
        if wait:
            connection.close()
        else:
            connection.collect()
    except Exception as exc:  # already broken
        log.debug("closing a broker connection: %s", exc)


class Unconfirmed(Exception):
    """The broker did not confirm every message of a batch."""


class BrokerUnavailable(KombuOperationalError, ConnectionError):
    """A message ``PooledPublisher`` could not get the broker to take: no line came free, or the connection failed
    past the retries. kombu's ``OperationalError``, as nameko's publisher raises it (the gateway answers 503 with
    Retry-After, not 500), and a ``ConnectionError``, as the socket's own errors are."""


class BatchPublisher:
    """One channel in confirm mode, opened on first use and again after any failure (see the module's text)."""

    def __init__(self, amqp_uri, exchange, timeout=10.0):
        self.amqp_uri = amqp_uri
        self.exchange = exchange  # a kombu Exchange, declared on every (re)connection
        self.timeout = timeout
        self.connection = None
        self.channel = None
        self.published = 0  # delivery tags given out on this channel (confirm mode numbers them from 1)
        self.pending = set()  # tags not confirmed yet
        self.refused = False

    def _open(self):
        connection = Connection(self.amqp_uri, connect_timeout=CONNECT_TIMEOUT)
        connection.connect()
        channel = connection.channel()
        if not self.exchange.no_declare:
            self.exchange.bind(channel).declare()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self.connection, self.channel = connection, channel
        self.published = 0
        self.pending = set()
        self.refused = False

    def _on_ack(self, delivery_tag, multiple):
        # a confirmation is of one tag or, with ``multiple``, of every tag up to it, in any order
        if multiple:
            self.pending = {tag for tag in self.pending if tag > delivery_tag}
        else:
            self.pending.discard(delivery_tag)

    def _on_nack(self, delivery_tag, multiple):
        self.refused = True
        self._on_ack(delivery_tag, multiple)

    def publish(self, messages):
        """Publish ``messages`` (dicts with ``body``, ``routing_key`` and optionally ``headers``, ``message_id``)
        and return once the broker has confirmed them all."""
        if not messages:
            return
        try:
            if self.channel is None:
                self._open()
            self.refused = False
            for m in messages:
                message = Message(json.dumps(m["body"]), content_type="application/json", content_encoding="utf-8",
                                  delivery_mode=2, priority=0, application_headers=m.get("headers") or {},
                                  message_id=m.get("message_id"))
                self.channel.basic_publish(message, exchange=self.exchange.name, routing_key=m["routing_key"])
                self.published += 1
                self.pending.add(self.published)
            deadline = time.monotonic() + self.timeout
            while self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Unconfirmed(f"{len(self.pending)} of {len(messages)} messages not confirmed in time")
                self.connection.drain_events(timeout=left)
            if self.refused:
                raise Unconfirmed("the broker refused a message of the batch (basic.nack)")
        except Exception:
            self.close()
            raise

    def close(self):
        connection, self.connection, self.channel = self.connection, None, None
        drop(connection)


class PooledPublisher(Publisher):
    """nameko's ``Publisher`` for one message at a time (RPC requests and replies), on channels kept open.

    nameko's takes a connection from kombu's pools on every message, building a ``Connection`` to find it, and
    goes through kombu's producer and its retry wrapper: a tenth of the gateway's CPU per request, above the
    write itself and the wait for the confirmation. This one keeps, per broker, open channels in confirm mode,
    each used by one green thread at a time, and publishes on them with py-amqp directly. The behaviour is
    nameko's: the message is confirmed before ``publish`` returns, a mandatory message that no queue takes raises
    ``UndeliverableMessage`` (how a call to a service that is not running becomes ``UnknownService``), and a broken
    connection is retried by the ``retry_policy``. Anything it does not handle (declarations, compression,
    expiration, other keyword arguments, no confirms) goes to nameko's own ``publish``.
    """

    PROPERTIES = ("correlation_id", "reply_to", "message_id", "type", "app_id", "timestamp", "user_id")

    def publish(self, payload, **kwargs):
        exchange, routing_key = kwargs.pop("exchange", None), kwargs.pop("routing_key", "")
        headers = dict(self.publish_kwargs.get("headers") or {})
        headers.update(kwargs.pop("headers", {}))
        headers.update(kwargs.pop("extra_headers", {}))
        mandatory = kwargs.pop("mandatory", self.mandatory)
        serializer = kwargs.pop("serializer", self.serializer)
        delivery_mode = kwargs.pop("delivery_mode", self.delivery_mode)
        properties = {name: kwargs.pop(name) for name in self.PROPERTIES if name in kwargs}
        unusual = (kwargs or self.declare or self.compression or not self.use_confirms or self.expiration
                   or set(self.publish_kwargs) - {"headers"})
        if unusual:
            kwargs.setdefault("timeout", CONFIRM_TIMEOUT)  # kombu's wait for the confirmation
            return super().publish(payload, exchange=exchange, routing_key=routing_key, headers=headers,
                                   mandatory=mandatory, serializer=serializer, delivery_mode=delivery_mode,
                                   **properties, **kwargs)
        content_type, content_encoding, body = kombu_dumps(payload, serializer)
        message = Message(body, content_type=content_type, content_encoding=content_encoding,
                          application_headers=headers, delivery_mode=delivery_mode, priority=self.priority or 0,
                          **properties)
        exchange_name = getattr(exchange, "name", exchange) or ""
        key = (self.amqp_uri, repr(self.ssl), self.login_method)
        lines = _LINES.setdefault(key, [])
        bound = _BOUNDS.get(key) or _BOUNDS.setdefault(key, Semaphore(MAX_LINES))
        retries, interval = 0, float(self.retry_policy.get("interval_start", 0))
        while True:
            # at most MAX_LINES lines, in use or idle: one more green thread waits for a line to come back (about a
            # confirmation's round trip) rather than opening a connection, which costs the process and the broker
            # more than the publish itself, and in a storm's first second would come all at once, from every gateway
            if not bound.acquire(timeout=CONFIRM_TIMEOUT):
                raise BrokerUnavailable(f"no publishing line came free in {CONFIRM_TIMEOUT:.0f} s (to {routing_key!r})")
            try:
                failure = self._publish_on_a_line(lines, message, exchange_name, routing_key, mandatory)
            finally:
                bound.release()
            if failure is None:
                return
            if not self.retry or retries >= int(self.retry_policy.get("max_retries", 3)):
                raise BrokerUnavailable(f"publishing to {routing_key!r} failed: {failure!r}") from failure
            # waiting for the broker to come back holds no line: the others wait their own turns, instead of
            # waiting for this one and giving up after CONFIRM_TIMEOUT (RabbitMQ killed mid-storm: 500s, then 503s)
            log.warning("publishing to %s failed (%s); retrying in %.1f s", routing_key, failure, interval)
            eventlet.sleep(interval)
            retries += 1
            interval = min(interval + float(self.retry_policy.get("interval_step", 1)),
                           float(self.retry_policy.get("interval_max", 1)))

    def _publish_on_a_line(self, lines, message, exchange_name, routing_key, mandatory):
        """One try: None once the broker has confirmed the message, or the connection error of a fresh line (to
        be tried again after the retry policy's wait, ``publish``); raises anything else."""
        while True:
            try:
                line, reused = lines.pop(), True
            except IndexError:
                line, reused = None, False
            try:
                if line is None:
                    line = _Line(self.amqp_uri, self.ssl, self.login_method)
                line.channel.basic_publish_confirm(message, exchange=exchange_name, routing_key=routing_key,
                                                   mandatory=mandatory, confirm_timeout=CONFIRM_TIMEOUT)
            except ChannelError as exc:  # returned (no route) or refused: the channel may hold a stale confirm
                if line is not None:
                    line.close()
                if "NO_ROUTE" in str(exc):
                    raise UndeliverableMessage() from None
                raise
            except CONNECTION_ERRORS as exc:
                if line is not None:
                    line.abandon()
                if reused:
                    # a kept connection that broke meanwhile (a broker restart) or went silent (a partition): the
                    # others kept beside it went the same way, so they go too, and a fresh one is tried at once
                    while lines:
                        lines.pop().abandon()
                    continue
                return exc
            except BaseException:  # interrupted (a caller's timeout) in the middle: the line's state is unknown
                if line is not None:
                    line.abandon()
                raise
            lines.append(line)  # kept: never more than MAX_LINES exist (``publish``)
            return None


_LINES = {}  # (broker, ssl, login method) -> idle _Line objects, last in first out
_BOUNDS = {}  # (broker, ssl, login method) -> Semaphore(MAX_LINES): the lines that may exist, in use or idle
MAX_LINES = 32  # per broker and process; more green threads publishing at once wait for one to come back


def close_idle(amqp_uri):
    """Close the idle publishing channels kept for ``amqp_uri`` (a container stopping: in one process the tests
    run many, each on a vhost of its own that is then deleted). Channels in use are kept when they come back."""
    for (uri, _, _), lines in list(_LINES.items()):
        if uri == amqp_uri:
            while lines:
                lines.pop().close()


class _Line:
    """One connection with one channel in confirm mode, used by one green thread at a time."""

    def __init__(self, amqp_uri, ssl=None, login_method=None):
        self.connection = Connection(amqp_uri, ssl=ssl, login_method=login_method,
                                     connect_timeout=CONNECT_TIMEOUT)
        self.connection.connect()
        self.channel = self.connection.connection.channel()  # py-amqp's; confirm mode from its first publish

    def close(self):
        drop(self.connection)

    def abandon(self):
        """Drop a connection that failed, without a word to the broker (it could only go unanswered)."""
        drop(self.connection, wait=False)
