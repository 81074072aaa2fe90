"""RPC as Khademyar uses it: nameko's, with changes that keep promises when the broker or a service is away, and
some that make a call cheaper.

1. **A reply that cannot be sent does not end the service.** nameko's ``RpcConsumer`` lets an error of the reply
   publisher escape, and the container dies ("thread exited with error"). Ours publishes the reply with retries
   for as long as a broker failover takes (``RPC_REPLY_RETRY_SECONDS``), and when that is not enough it logs and
   leaves the request unacknowledged: the broker delivers it again once the consumer has reconnected, and the
   redelivery is answered from what the first run recorded (point 2).
2. **Each request carries its call id to the database layer.** A request's AMQP ``correlation_id`` is the same on
   every delivery of it; ``@transactional`` (kit/db.py) records it with the result in the method's own transaction,
   so a redelivered request returns the first answer instead of running twice.
3. **An acknowledgement on a broken connection is left to the broker** (``settle``), instead of escaping nameko and
   ending the container (what killing RabbitMQ mid-storm did to shrine).
4. **A caller does not wait for ever.** ``RpcProxy`` waits ``RPC_TIMEOUT`` seconds (30 by default) for the reply, the
   request's publication included, and then raises ``ServiceTimeout`` (the gateway answers 504), instead of holding
   a worker until the service returns or the broker speaks again.
5. **A call costs less**: requests and replies are published on channels kept open (kit.amqp.PooledPublisher, not
   a pool checkout per message), and each reply is handed to its caller in the reply consumer's own loop
   (``ReplyConsumer``), not in a green thread spawned for it (docs/benchmarks.md, session 5).
6. **A call whose messages the broker lost is sent again.** When the reply consumer comes back after losing its
   connection, every call still waiting for its reply is published again with its call id
   (``ReplyListener.send_again``): a request that had run is answered from its record (point 2), one that had not
   runs now, and a second reply is dropped as unknown. Requests and replies are persistent, as nameko's are (and as
   production's quorum queues keep every message); ``RPC_PERSISTENT=false`` sends them transient, which halves
   RabbitMQ's CPU per call on classic queues (docs/benchmarks.md, session 10), and a broker restart then loses the
   ones it held: the calls sent again are what make that safe. Events are not RPC: they go through the outbox,
   persistent and confirmed (kit/events.py).

The worker also learns the **tenant** of the request: when the first argument (or ``actor=``) is the actor of a
province-scoped staff role, its province; on PostgreSQL every transaction of that worker is then confined to the
province by row-level security (kit/tenancy.py), a second wall behind the services' own scoping.
"""
import functools
import logging
import uuid
import weakref

import eventlet
import nameko.rpc
from amqp.exceptions import AMQPError
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.amqp.publish import UndeliverableMessage
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.exceptions import ContainerBeingKilled, MalformedRequest, UnknownService, deserialize_to_instance
from nameko.messaging import QueueConsumer

from kit.amqp import PooledPublisher, close_idle

log = logging.getLogger(__name__)

# Staff roles whose every action is confined to their own province (the admin is nationwide; a member books shrine
# shifts that other provinces' shrine offices publish, and the shrine office serves members of every province).
PROVINCE_SCOPED_ROLES = frozenset({
    "province_office", "thematic_center", "neighborhood_center", "supervisor", "desk_officer", "unit_officer",
})


@deserialize_to_instance
class ServiceTimeout(Exception):
    """The service did not answer within RPC_TIMEOUT seconds."""


def tenant_of(args, kwargs):
    """The province a request is confined to, or None (admin, members, visitors, events, timers)."""
    actor = kwargs.get("actor", args[0] if args else None)
    if isinstance(actor, dict) and actor.get("role") in PROVINCE_SCOPED_ROLES and actor.get("province"):
        return str(actor["province"])
    return None


TRANSIENT, PERSISTENT = 1, 2  # AMQP delivery modes


def delivery_mode(config):
    """How RPC requests and replies are sent: persistent, unless ``RPC_PERSISTENT`` is false (module text,
    point 6)."""
    return TRANSIENT if str(config.get("RPC_PERSISTENT", "true")).strip().lower() in ("0", "false", "no", "off") \
        else PERSISTENT


def reply_retry_policy(seconds):
    """Retries of the reply publisher that add up to about ``seconds``."""
    interval_max = 2.0
    return {"max_retries": max(1, int(seconds / interval_max) + 2), "interval_start": 0.2,
            "interval_step": 0.6, "interval_max": interval_max}


class Responder(nameko.rpc.Responder):
    """nameko's, publishing the reply on a kept channel (``PooledPublisher``) and retrying it (``retry_policy``)."""

    def __init__(self, *args, retry_policy=None, delivery_mode=PERSISTENT, **kwargs):
        super().__init__(*args, **kwargs)
        self.publisher_cls = functools.partial(PooledPublisher, retry=True, retry_policy=retry_policy,
                                               delivery_mode=delivery_mode)


def settle(queue_consumer, message, requeue=False, multiple=False):
    """Acknowledge (or requeue) a delivery (``multiple``: with every earlier one of its channel); when its
    connection died meanwhile, leave it to the broker.

    nameko catches only amqp's ``ConnectionError`` there; a socket that broke under the write (``BrokenPipeError``,
    ``ConnectionResetError``) escaped and ended the container (seen when RabbitMQ was killed mid-storm). An
    unacknowledged delivery goes back to its queue when the connection closes, and its redelivery is answered from
    its record (RPC) or skipped by the inbox (events), so nothing is lost by giving up here.
    """
    try:
        if requeue:
            queue_consumer.requeue_message(message)
        elif multiple:
            if message.channel.connection:  # as nameko's ack_message: a dead channel's deliveries are the broker's
                message.ack(multiple=True)
        else:
            queue_consumer.ack_message(message)
    except (OSError, AMQPError, KombuOperationalError) as exc:
        log.warning("could not %s a delivery (%s): the broker will deliver it again",
                    "requeue" if requeue else "acknowledge", exc)


class RpcConsumer(nameko.rpc.RpcConsumer):
    def stop(self):
        super().stop()
        close_idle(self.container.config[AMQP_URI_CONFIG_KEY])

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = Responder(
            config[AMQP_URI_CONFIG_KEY], nameko.rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
            retry_policy=reply_retry_policy(float(config.get("RPC_REPLY_RETRY_SECONDS", 30))),
            delivery_mode=delivery_mode(config))
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except Exception as exc:  # the broker stayed away past the retries
            log.error("the reply to %s could not be sent (%s); the request stays unacknowledged and will be "
                      "delivered again", message.delivery_info.get("routing_key"), exc)
            settle(self.queue_consumer, message, requeue=True)
            return result, exc_info
        settle(self.queue_consumer, message)
        return result, exc_info


class Rpc(nameko.rpc.Rpc):
    rpc_consumer = RpcConsumer()

    def handle_message(self, body, message):
        try:
            args = body["args"]
            kwargs = body["kwargs"]
        except KeyError:
            raise MalformedRequest("Message missing `args` or `kwargs`") from None
        self.check_signature(args, kwargs)
        context_data = self.unpack_message_headers(message)
        handle_result = functools.partial(self.handle_result, message)
        try:
            worker_ctx = self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                                     handle_result=handle_result)
        except ContainerBeingKilled:
            settle(self.rpc_consumer.queue_consumer, message, requeue=True)
            return
        # the worker's green thread has not run yet (spawning does not switch to it)
        worker_ctx.rpc_call_id = message.properties.get("correlation_id")
        worker_ctx.tenant = tenant_of(args, kwargs)


rpc = Rpc.decorator


class MethodProxy(nameko.rpc.MethodProxy):
    publisher_cls = PooledPublisher

    def __init__(self, *args, timeout=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.timeout = timeout

    def __call__(self, *args, **kwargs):
        return self.call_within(self.timeout, *args, **kwargs)

    def _call(self, *args, **kwargs):
        """nameko's, with the publication kept by the reply listener until the reply comes (to be sent again after
        a reconnection, ``ReplyListener.send_again``), and forgotten when the publication fails (nameko kept the
        reply's event for ever then)."""
        correlation_id = str(uuid.uuid4())
        send = functools.partial(
            self.publisher.publish, {"args": args, "kwargs": kwargs},
            exchange=nameko.rpc.get_rpc_exchange(self.container.config),
            routing_key=f"{self.service_name}.{self.method_name}", mandatory=True,
            reply_to=self.reply_listener.routing_key, correlation_id=correlation_id,
            extra_headers=self.get_message_headers(self.worker_ctx))
        reply_event = self.reply_listener.expect(correlation_id, send)
        try:
            send()
        except UndeliverableMessage:  # no queue took it: no such service is running
            self.reply_listener.forget(correlation_id)
            raise UnknownService(self.service_name) from None
        except BaseException:
            self.reply_listener.forget(correlation_id)
            raise
        reply = nameko.rpc.RpcReply(reply_event)
        reply.correlation_id = correlation_id
        return reply

    def call_within(self, seconds, *args, **kwargs):
        """Call, and wait at most ``seconds`` (None or 0: for ever) for the answer, the request's publication
        included: a broker that went silent cannot hold the caller longer. Raises ``ServiceTimeout``."""
        if not seconds:
            return self._call(*args, **kwargs).result()
        reply = None
        timer = eventlet.Timeout(seconds)
        try:
            reply = self._call(*args, **kwargs)
            return reply.result()
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            if reply is not None:  # forget it: a late reply is then dropped as unknown
                self.reply_listener.forget(reply.correlation_id)
            raise ServiceTimeout(f"{self.service_name}.{self.method_name} did not answer in {seconds} s") from None
        finally:
            timer.cancel()


class ServiceProxy(nameko.rpc.ServiceProxy):
    def __init__(self, *args, timeout=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.timeout = timeout

    # weakly: the worker's context holds the service instance, which holds this proxy; a strong reference back
    # made a cycle of every worker, left to the garbage collector (kit/runtime.py)
    @property
    def worker_ctx(self):
        return self._worker_ctx()

    @worker_ctx.setter
    def worker_ctx(self, worker_ctx):
        self._worker_ctx = weakref.ref(worker_ctx)

    def __getattr__(self, name):
        return MethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener, timeout=self.timeout,
                           **self.options)


class ReplyConsumer(QueueConsumer):
    """The consumer of a process's RPC replies, on a connection of its own: each reply is handed to its waiting
    caller in the consumer's own loop, where nameko spawned a green thread for every reply.

    Replies stay acknowledged and persistent: a reply the broker held when a connection was forced closed, or when
    the broker restarted, is delivered once the consumer is back, and its caller, still within ``RPC_TIMEOUT``,
    gets its answer instead of a 504 for work that was done (docs/resilience.md).

    The replies that arrived together (in one read of the socket, kit.amqp ``READ_CHUNK``) are acknowledged
    together, by one ``basic.ack`` with ``multiple`` for the last of them: every reply up to it has been handed
    over already, since this loop hands each over before it reads the next. A burst left unacknowledged by a
    broken connection goes back to the queue, as a single reply would."""

    _unacked = None  # the last reply handed over, while more of its burst is still to be read

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        again = self._consumers_ready.ready()  # consuming before: this is a reconnection
        super().on_consume_ready(connection, channel, consumers, **kwargs)
        if again:
            self._unacked = None  # of the connection that died: the broker has it back
            for provider in list(self._providers):
                provider.send_again()

    def handle_message(self, provider, body, message):
        provider.handle_message(body, message)
        self._unacked = message
        self._acknowledge_burst()

    def on_iteration(self):
        super().on_iteration()
        self._acknowledge_burst()

    def _acknowledge_burst(self):
        message = self._unacked
        if message is None or _read_ahead(message):
            return
        self._unacked = None
        settle(self, message, multiple=True)


def _read_ahead(message):
    """Whether more has been read from the socket of ``message``'s connection than has been handled yet."""
    connection = getattr(message.channel, "connection", None)
    transport = getattr(connection, "transport", None)
    return bool(getattr(transport, "_read_buffer", None))


class ReplyListener(nameko.rpc.ReplyListener):
    """nameko's, on the ``ReplyConsumer``, with an acknowledgement that survives a connection broken under it
    (``settle``), and each call's publication kept until its reply comes, to be sent again after a reconnection
    (module text, point 6)."""

    queue_consumer = ReplyConsumer()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._sends = {}  # correlation id -> the call's publication, while its reply is awaited

    def stop(self):
        super().stop()
        close_idle(self.container.config[AMQP_URI_CONFIG_KEY])

    def expect(self, correlation_id, send):
        """Await the reply to ``correlation_id``, published by ``send()``: the event its reply will be sent to."""
        self._sends[correlation_id] = send
        return self.get_reply_event(correlation_id)

    def forget(self, correlation_id):
        """The caller stopped waiting (a time-out, a publication that failed): a late reply is dropped."""
        self._reply_events.pop(correlation_id, None)
        self._sends.pop(correlation_id, None)

    def handle_message(self, body, message):  # acknowledged by the ReplyConsumer, with its burst
        correlation_id = message.properties.get("correlation_id")
        self._sends.pop(correlation_id, None)
        client_event = self._reply_events.pop(correlation_id, None)
        if client_event is not None:
            client_event.send(body)

    def send_again(self):
        """The reply consumer is back after losing its connection: publish every awaited call again, each in a
        green thread of its own (a publication waits for its confirmation; the consumer's loop must not)."""
        pending = list(self._sends.items())
        if pending:
            log.warning("the reply consumer reconnected: sending %d awaited calls again, in case the broker lost "
                        "them", len(pending))
        for correlation_id, send in pending:
            eventlet.spawn_n(self._send_again, correlation_id, send)

    def _send_again(self, correlation_id, send):
        if correlation_id not in self._sends:  # answered meanwhile
            return
        try:
            send()
        except Exception as exc:  # its caller still times out after RPC_TIMEOUT, as without this
            log.warning("an awaited call could not be sent again (%s): %r", correlation_id, exc)


class RpcProxy(nameko.rpc.RpcProxy):
    """nameko's RpcProxy, bounded by ``RPC_TIMEOUT`` seconds (0: wait for ever)."""

    rpc_reply_listener = ReplyListener()

    def setup(self):
        super().setup()
        self.options.setdefault("delivery_mode", delivery_mode(self.container.config))

    def get_dependency(self, worker_ctx):
        timeout = float(self.container.config.get("RPC_TIMEOUT", 30) or 0)  # read per call: tests change it
        return ServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener, timeout=timeout,
                            **self.options)
