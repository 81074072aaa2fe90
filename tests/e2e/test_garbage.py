"""A request leaves (almost) nothing for the garbage collector.

Objects in a reference cycle are freed only by CPython's cyclic collector, and a process stops for the whole of a
collection. Every request used to leave about 40 such objects in the gateway and the service (the worker's context,
the service instance, and the RPC proxies and database worker holding the context back), and the gateway's
refusals more (their tracebacks, kept alive by the Event that carried them); in the booking storm the gateway then
stopped for 0.2-0.6 s every 20 s to collect them, and those pauses were the storm's p99 (docs/benchmarks.md,
session 6). What is left is werkzeug's route matcher (a closure that refers to itself: 5 cells, a function, a
tuple, a set) and, now and then, a socket time-out.
"""
import gc
import http.client
import uuid
from urllib.parse import urlsplit

import pytest

from bench.shrine import mint

PER_REQUEST = 20  # objects; measured 8-10 on both paths


def garbage_per_request(system, method, path, token, n=100):
    parts = urlsplit(system.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def call():
        conn.request(method, path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        return response.status

    statuses = {call() for _ in range(20)}  # warm: connections, caches, the routes' first use
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection would have freed is kept in gc.garbage, to be counted
    try:
        gc.garbage.clear()
        statuses |= {call() for _ in range(n)}
        gc.collect()
        return len(gc.garbage) / n, statuses
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        conn.close()


@pytest.mark.parametrize("method,path,expected", [
    ("GET", "/api/v1/ping", 200),  # the null path: the gateway's worker and membership's
    ("POST", "/api/v1/shrine/shifts/{}/bookings", 404),  # a refusal raised in shrine, re-raised in the gateway
])
def test_a_request_makes_next_to_no_cyclic_garbage(system, method, path, expected):
    token = mint(system.config["JWT_SECRET"], uuid.uuid4().hex)  # a member shrine has never heard of
    per_request, statuses = garbage_per_request(system, method, path.format(uuid.uuid4().hex), token)
    assert statuses == {expected}
    assert per_request < PER_REQUEST, f"{per_request:.1f} objects of cyclic garbage per request"
