"""Prometheus metrics: RED per entrypoint for every service, and the kit's own gauges.

Metric objects live at module level (one registry per process), labelled by
service, so several services in one test process never register twice.
"""
import logging
import time

from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter("khademyar_entrypoint_requests_total", "Entrypoint calls handled",
                   ["service", "entrypoint", "kind"])
ERRORS = Counter("khademyar_entrypoint_errors_total", "Entrypoint calls that raised",
                 ["service", "entrypoint", "kind", "error"])
DURATION = Histogram("khademyar_entrypoint_duration_seconds", "Entrypoint call duration",
                     ["service", "entrypoint", "kind"], buckets=BUCKETS)

HTTP_REQUESTS = Counter("khademyar_http_requests_total", "HTTP requests served by the gateway",
                        ["method", "route", "status"])
HTTP_DURATION = Histogram("khademyar_http_request_duration_seconds", "HTTP request duration at the gateway",
                          ["method", "route"], buckets=BUCKETS)

GC_PAUSE = Histogram("khademyar_gc_pause_seconds", "Garbage collections of the process, by generation (kit/runtime.py)",
                     ["generation"], buckets=BUCKETS)
OUTBOX_LAG = Gauge("khademyar_outbox_lag_seconds", "Age of the oldest unpublished outbox event", ["service"])
EVENTS_PUBLISHED = Counter("khademyar_events_published_total", "Events relayed from the outbox", ["service"])
EVENTS_RETRIED = Counter("khademyar_events_retried_total", "Event deliveries retried after a handler failed",
                         ["service", "event"])
EVENTS_DEAD = Counter("khademyar_events_dead_lettered_total", "Events dead-lettered after their retries",
                      ["service", "event"])
DEAD_LETTER_DEPTH = Gauge("khademyar_dead_letter_messages", "Messages waiting in a service's dead-letter queues",
                          ["service"])
OVERDUE_APPLICATIONS = Gauge("khademyar_overdue_applications", "Applications not contacted within 15 days",
                             ["province"])

_servers = set()


def serve(port):
    """Expose the process registry on ``port`` once per process (0: not at all)."""
    if port and port not in _servers:
        start_http_server(port)
        _servers.add(port)


class Metrics(DependencyProvider):
    """Records RED metrics for every entrypoint of the service it is declared on."""

    def setup(self):
        self.service = self.container.service_name
        self.started = {}

    def start(self):
        serve(int(self.container.config.get("METRICS_PORT", 0) or 0))

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self.started.pop(worker_ctx, None)
        entry = worker_ctx.entrypoint
        kind = type(entry).__name__.lower()
        labels = (self.service, entry.method_name, kind)
        REQUESTS.labels(*labels).inc()
        if started is not None:
            DURATION.labels(*labels).observe(time.perf_counter() - started)
        if exc_info is not None:
            ERRORS.labels(*labels, type(exc_info[1]).__name__).inc()

    def worker_teardown(self, worker_ctx):
        self.started.pop(worker_ctx, None)


def registry():
    return REGISTRY
