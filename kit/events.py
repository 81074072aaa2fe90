"""Events: versioned payload schemas, and consumers that neither lose nor repeat.

A service's ``events.py`` declares each event it publishes::

    class MemberActivated(Event):
        version = 1
        class schema(Schema):
            member_id = fields.Str(required=True)

It publishes with ``self.db.publish(MemberActivated, payload, province)``
(written to the outbox, see kit.db).  On the wire an event is an envelope:
``event_id, event_type, version, occurred_at, province, correlation_id, payload``.

A consumer declares ``@on_event("membership", "MemberActivated")``: the handler
runs in one transaction with a record of the ``event_id`` (a redelivery has no
second effect: its transaction fails on that record's key, and is recognised by
it); a handler that raises is retried a few times with backoff and then
dead-lettered to ``<queue>.dead`` instead of being acked and lost, as nameko's
own ``event_handler`` would do.
"""
import functools
import logging

import eventlet
from amqp.exceptions import ChannelError
from kombu import Connection, Queue
from nameko.amqp.publish import Publisher
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from kit import metrics
from kit.rpc import settle

log = logging.getLogger(__name__)

RETRY_HEADER = "x-khademyar-retries"
OUTAGE_HEADER = "x-khademyar-outages"


def is_outage(exc):
    """A failure of the database connection (server restarting, network), as opposed to a handler's own error."""
    return isinstance(exc, (OperationalError, InterfaceError)) or bool(getattr(exc, "connection_invalidated", False))


class Event:
    """Base of a published event: a name, a version and a marshmallow ``schema``."""

    version = 1
    schema = None
    summary = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name = cls.__name__


class ReliableEventHandler(EventHandler):
    """An event handler that retries, then dead-letters, instead of dropping a failed message."""

    def __init__(self, source_service, event_type, max_retries=5, **kwargs):
        kwargs.setdefault("reliable_delivery", True)
        super().__init__(source_service, event_type, requeue_on_error=False, **kwargs)
        self.max_retries = max_retries

    def _publisher(self):
        return Publisher(self.container.config["AMQP_URI"], serializer="json",
                         retry=True, retry_policy={"max_retries": 3, "interval_start": 0.5,
                                                   "interval_step": 0.5, "interval_max": 2})

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            settle(self.queue_consumer, message)
            return
        retries = int(message.headers.get(RETRY_HEADER, 0))
        outages = int(message.headers.get(OUTAGE_HEADER, 0))
        service = self.container.service_name
        if is_outage(exc_info[1]):
            # the database is away, not the handler wrong: wait for it without using up the retries
            headers = dict(message.headers, **{OUTAGE_HEADER: outages + 1})
            delay = min(0.2 * 2 ** outages, float(self.container.config.get("EVENT_OUTAGE_MAX_BACKOFF", 30)))
        else:
            headers = dict(message.headers, **{RETRY_HEADER: retries + 1})
            delay = min(0.2 * 2 ** retries, 5)
        try:
            if retries < self.max_retries or is_outage(exc_info[1]):
                eventlet.sleep(delay)
                self._publisher().publish(message.payload, exchange=None, routing_key=self.queue.name,
                                          headers=headers)
                metrics.EVENTS_RETRIED.labels(service, self.event_type).inc()
            else:
                dead = Queue(f"{self.queue.name}.dead", durable=True)
                self._publisher().publish(message.payload, exchange=None, routing_key=dead.name,
                                          headers=headers, declare=[dead])
                metrics.EVENTS_DEAD.labels(service, self.event_type).inc()
                log.error("event %s dead-lettered to %s after %d tries", self.event_type, dead.name, retries + 1)
        except Exception:  # broker away: leave the message to be redelivered
            log.exception("could not re-queue a failed %s; returning it to the broker", self.event_type)
            settle(self.queue_consumer, message, requeue=True)
            return
        settle(self.queue_consumer, message)


def reliable_event_handler(source_service, event_type, **kwargs):
    return ReliableEventHandler.decorator(source_service, event_type, **kwargs)


def on_event(source_service, event_type, **kwargs):
    """Declare an idempotent, transactional, retrying consumer of one event type."""

    def decorate(method):
        consumer = f"{source_service}.{event_type}.{method.__name__}"

        @functools.wraps(method)
        def handler(self, envelope):
            event_id = envelope["event_id"]
            try:
                self.db.claim(event_id, consumer)  # in the handler's transaction: both are committed, or neither
                result = method(self, envelope)
                self.db.commit()
            except DBAPIError as exc:
                self.db.rollback()
                if not is_outage(exc) and self.db.handled(event_id, consumer):
                    log.info("event %s already handled by %s", event_id, consumer)  # a redelivery
                    return None
                raise
            except BaseException:
                self.db.rollback()
                raise
            log.debug("event %s handled by %s", event_id, consumer)
            return result

        handler.consumes = (source_service, event_type)
        return reliable_event_handler(source_service, event_type, **kwargs)(handler)

    return decorate


class DeadLetterMonitor(DependencyProvider):
    """Samples the depth of this service's dead-letter queues into a gauge (for alerts)."""

    def __init__(self, interval=15.0):
        self.interval = interval

    def start(self):
        queues = [f"{e.queue.name}.dead" for e in self.container.entrypoints if isinstance(e, ReliableEventHandler)]
        if queues:
            self.container.spawn_managed_thread(lambda: self._loop(queues), identifier="dead-letter-monitor")

    def _loop(self, queues):
        while True:
            try:
                self.sample(queues)
            except Exception as exc:  # the broker may be away; try again next time
                log.warning("could not sample dead-letter queues: %s", exc)
            eventlet.sleep(self.interval)

    def sample(self, queues):
        total = 0
        with Connection(self.container.config["AMQP_URI"]) as conn:
            for name in queues:
                channel = conn.channel()
                try:
                    total += channel.queue_declare(name, passive=True).message_count
                except ChannelError:  # not created yet: nothing was dead-lettered
                    pass
                finally:
                    try:
                        channel.close()
                    except Exception:
                        pass
        metrics.DEAD_LETTER_DEPTH.labels(self.container.service_name).set(total)
        return total
