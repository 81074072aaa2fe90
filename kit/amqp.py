"""Publishing to RabbitMQ for less: a batch with one wait for its confirmations (``BatchPublisher``, the outbox
relay's), and single messages on channels kept open (``PooledPublisher``, RPC requests and replies).

nameko's ``Publisher`` takes a pooled connection, publishes one message and waits for its confirmation, for every
message: a round trip to the broker and a pool checkout each. The relay publishes a batch of outbox rows at once,
so ``BatchPublisher`` keeps one channel in confirm mode open, writes the whole batch, and then waits until the
broker has confirmed every message of it. It answers only when all are confirmed, and raises otherwise (a
negative confirmation, a broken connection, no answer within ``timeout``): the relay then leaves the rows
unpublished and sends them again later, which the consumers' inbox makes harmless.
"""
import logging
import socket
import time

import eventlet
from amqp import Message
from amqp.exceptions import ChannelError, RecoverableConnectionError
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Connection
from kombu.serialization import dumps as kombu_dumps
from kombu.utils import json
from nameko.amqp.publish import Publisher, UndeliverableMessage

log = logging.getLogger(__name__)

CONNECTION_ERRORS = (OSError, socket.timeout, AmqpConnectionError, RecoverableConnectionError)


class Unconfirmed(Exception):
    """The broker did not confirm every message of a batch."""


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
        connection = Connection(self.amqp_uri, connect_timeout=5)
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
        if connection is not None:
            try:
                connection.close()
            except Exception as exc:  # already broken
                log.debug("closing the relay's broker connection: %s", exc)


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
            return super().publish(payload, exchange=exchange, routing_key=routing_key, headers=headers,
                                   mandatory=mandatory, serializer=serializer, delivery_mode=delivery_mode,
                                   **properties, **kwargs)
        content_type, content_encoding, body = kombu_dumps(payload, serializer)
        message = Message(body, content_type=content_type, content_encoding=content_encoding,
                          application_headers=headers, delivery_mode=delivery_mode, priority=self.priority or 0,
                          **properties)
        exchange_name = getattr(exchange, "name", exchange) or ""
        lines = _LINES.setdefault((self.amqp_uri, repr(self.ssl), self.login_method), [])
        retries, interval = 0, float(self.retry_policy.get("interval_start", 0))
        while True:
            try:
                line, reused = lines.pop(), True
            except IndexError:
                line, reused = None, False
            try:
                if line is None:
                    line = _Line(self.amqp_uri, self.ssl, self.login_method)
                line.channel.basic_publish_confirm(message, exchange=exchange_name, routing_key=routing_key,
                                                   mandatory=mandatory)
            except ChannelError as exc:  # returned (no route) or refused: the channel may hold a stale confirm
                if line is not None:
                    line.close()
                if "NO_ROUTE" in str(exc):
                    raise UndeliverableMessage() from None
                raise
            except CONNECTION_ERRORS as exc:
                if line is not None:
                    line.close()
                if reused:  # an idle connection that broke meanwhile (a broker restart): a fresh one, at once
                    continue
                if not self.retry or retries >= int(self.retry_policy.get("max_retries", 3)):
                    raise
                log.warning("publishing to %s failed (%s); retrying in %.1f s", routing_key, exc, interval)
                eventlet.sleep(interval)
                retries += 1
                interval = min(interval + float(self.retry_policy.get("interval_step", 1)),
                               float(self.retry_policy.get("interval_max", 1)))
                continue
            except BaseException:
                if line is not None:
                    line.close()
                raise
            if len(lines) < IDLE_LINES:
                lines.append(line)
            else:
                line.close()
            return


_LINES = {}  # (broker, ssl, login method) -> idle _Line objects, last in first out
IDLE_LINES = 32  # kept open per broker and process; more are opened when more green threads publish at once


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
        self.connection = Connection(amqp_uri, ssl=ssl, login_method=login_method, connect_timeout=5)
        self.connection.connect()
        self.channel = self.connection.connection.channel()  # py-amqp's; confirm mode from its first publish

    def close(self):
        try:
            self.connection.close()
        except Exception as exc:  # already broken
            log.debug("closing a publishing connection: %s", exc)
