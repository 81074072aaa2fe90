"""Publishing a batch of messages with one wait for the broker's confirmations (the outbox relay's publisher).

nameko's ``Publisher`` takes a pooled connection, publishes one message and waits for its confirmation, for every
message: a round trip to the broker and a pool checkout each. The relay publishes a batch of outbox rows at once,
so ``BatchPublisher`` keeps one channel in confirm mode open, writes the whole batch, and then waits until the
broker has confirmed every message of it. It answers only when all are confirmed, and raises otherwise (a
negative confirmation, a broken connection, no answer within ``timeout``): the relay then leaves the rows
unpublished and sends them again later, which the consumers' inbox makes harmless.
"""
import logging
import time

from amqp import Message
from kombu import Connection
from kombu.utils import json

log = logging.getLogger(__name__)


class Unconfirmed(Exception):
    """The broker did not confirm every message of a batch."""


class BatchPublisher:
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
