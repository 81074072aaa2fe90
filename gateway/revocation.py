"""Tokens of deactivated members stop working at once, not when they expire.

A bearer token is valid until its ``exp`` (``JWT_TTL_SECONDS``); a member deactivated meanwhile would keep using
theirs. Each gateway process keeps the members deactivated within a token's lifetime, with the moment: a token of
such a member issued before that moment is refused (401 ``account_deactivated``). It learns them from membership's
``MemberDeactivated`` events (a broadcast queue per gateway process) and forgets them on ``MemberReinstated``; when
it starts, it asks membership for those of the last ``JWT_TTL_SECONDS`` (retrying until membership answers).
This is authentication, not a business rule: who is deactivated is decided by membership alone.

The two events come through two queues, so a reinstatement and the deactivation that followed it can arrive in
either order: each is applied only when it is newer (``occurred_at``) than the last one applied for that member,
so the member's last decision stands whatever the order of arrival.
"""
import datetime as dt
import logging
import time

import eventlet
from nameko.events import BROADCAST, EventHandler
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy

from kit.rpc import settle

log = logging.getLogger(__name__)


def _epoch(moment):
    return dt.datetime.fromisoformat(moment).timestamp()


class Revocations(DependencyProvider):
    def setup(self):
        self.revoked = {}  # member id -> epoch seconds of the deactivation
        self.restored = {}  # member id -> epoch seconds of the last reinstatement (kept for a token's lifetime)
        self.loaded = False

    def start(self):
        self.container.spawn_managed_thread(self._load, identifier="gateway.revocations")

    def _load(self):
        config = self.container.config
        ttl = float(config.get("JWT_TTL_SECONDS", 3600))
        delay = 0.5
        while not self.loaded:
            try:
                with ClusterRpcProxy(config, timeout=10) as proxy:
                    for row in proxy.membership.deactivated_since(ttl):
                        self.revoke(row["member_id"], _epoch(row["at"]))
                self.loaded = True
                log.info("%d recent deactivations known", len(self.revoked))
            except Exception as exc:  # membership not up yet, or the broker away: try again
                log.info("deactivations not loaded yet (%s); retrying", exc)
                eventlet.sleep(delay)
                delay = min(delay * 2, 10)

    def revoke(self, member_id, at):
        if at < self.restored.get(member_id, 0):  # reinstated after this deactivation: an old event
            return
        self.revoked[member_id] = max(at, self.revoked.get(member_id, 0))

    def restore(self, member_id, at=None):
        at = time.time() if at is None else at
        if at < self.revoked.get(member_id, 0):  # deactivated again after this reinstatement: an old event
            return
        self.revoked.pop(member_id, None)
        self.restored[member_id] = max(at, self.restored.get(member_id, 0))
        if len(self.restored) > 1000:  # older than any token still valid: nothing left for them to overrule
            ttl = float(self.container.config.get("JWT_TTL_SECONDS", 3600))
            horizon = time.time() - ttl - 60
            self.restored = {k: v for k, v in self.restored.items() if v >= horizon}

    def refuses(self, member_id, issued_at):
        """True when ``member_id`` was deactivated after the token was issued (``iat``, whole seconds)."""
        at = self.revoked.get(member_id)
        return at is not None and (issued_at is None or issued_at <= at)

    def get_dependency(self, worker_ctx):
        return self


class _Handler(EventHandler):
    """nameko's event handler, acknowledging through ``kit.rpc.settle`` (a broken connection does not end us)."""

    def handle_message_processed(self, message, result=None, exc_info=None):
        settle(self.queue_consumer, message, requeue=exc_info is not None and self.requeue_on_error)


event_handler = _Handler.decorator


class RevocationEvents:
    """The gateway's two event handlers: every gateway process hears each event (broadcast)."""

    revocations = Revocations()

    @event_handler("membership", "MemberDeactivated", handler_type=BROADCAST, reliable_delivery=False)
    def member_deactivated(self, envelope):
        at = _epoch(envelope["occurred_at"]) if envelope.get("occurred_at") else time.time()
        self.revocations.revoke(envelope["payload"]["member_id"], at)

    @event_handler("membership", "MemberReinstated", handler_type=BROADCAST, reliable_delivery=False)
    def member_reinstated(self, envelope):
        at = _epoch(envelope["occurred_at"]) if envelope.get("occurred_at") else None
        self.revocations.restore(envelope["payload"]["member_id"], at)
