"""The container of every Khademyar process (config.yml ``SERVICE_CONTAINER_CLS``): nameko's, with a service's
workers bounded by its database connections.

nameko runs up to ``max_workers`` workers at once and asks the broker for as many messages ahead (the consumer's
prefetch). A service's worker spends its time in a transaction, so workers beyond what the database can serve at
once only wait, and where they wait decides the tail: in SQLAlchemy's pool a newcomer takes a connection that was
just returned before the workers already waiting get it, and PostgreSQL meets more transactions at once on the
same rows. In the booking storm (docs/benchmarks.md, session 8) 64 workers on a pool of 40 gave a p99 of 1.6–1.8
times the median, and ``DB_POOL_SIZE`` (20) workers 1.4–1.6 times, at the same throughput: the requests beyond
them wait at the broker instead, in the order they came.

So a service with a database (a ``kit.db.Database`` dependency) runs at most ``DB_POOL_SIZE`` workers; its pool
holds twice as many connections on PostgreSQL (kit/db.py ``make_engine``), so the outbox relay, which runs beside
the workers, never waits for one either (SQLite, one writer, has one connection, which its workers take in turn).
The gateway, whose workers wait for services and not for a database, keeps ``max_workers``.
"""
import inspect

from nameko.constants import DEFAULT_MAX_WORKERS, MAX_WORKERS_CONFIG_KEY
from nameko.containers import ServiceContainer as NamekoContainer

from kit.db import Database, configured_pool_size


def worker_bound(service_cls, config):
    """The workers a process of ``service_cls`` runs at once under ``config``."""
    most = int(config.get(MAX_WORKERS_CONFIG_KEY) or DEFAULT_MAX_WORKERS)
    if inspect.getmembers(service_cls, lambda member: isinstance(member, Database)):
        return max(1, min(most, configured_pool_size(config)))
    return most


class ServiceContainer(NamekoContainer):
    """nameko's container with ``worker_bound`` workers. The config stays the one shared with the runner (tests
    change values in it while the system runs); the bound is set on the container itself, before it starts: its
    ``max_workers``, which the consumers read for their prefetch when they start, and its pool of green threads
    (nameko 2.14's ``_worker_pool``, resized with eventlet's ``GreenPool.resize``)."""

    def __init__(self, service_cls, config):
        super().__init__(service_cls, config)
        self.max_workers = worker_bound(service_cls, config)
        self._worker_pool.resize(self.max_workers)
