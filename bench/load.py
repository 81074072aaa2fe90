"""A small closed-loop HTTP load generator: N green-thread clients, each with a keep-alive connection."""
import http.client
import json
import time
from urllib.parse import urlsplit

import eventlet


class Result:
    def __init__(self, name, latencies, statuses, elapsed, ok):
        self.name = name
        self.latencies = sorted(latencies)
        self.statuses = statuses
        self.elapsed = elapsed
        self.ok = ok

    @property
    def count(self):
        return len(self.latencies)

    @property
    def rps(self):
        return self.ok / self.elapsed if self.elapsed else 0.0

    def pct(self, p):
        if not self.latencies:
            return float("nan")
        return self.latencies[min(len(self.latencies) - 1, int(p / 100 * len(self.latencies)))] * 1000

    def row(self, null=None):
        ratio = f"{self.rps / null.rps:.2f}" if null is not None and null.rps else "1.00"
        return {"scenario": self.name, "requests": self.count, "ok": self.ok, "rps": round(self.rps, 1),
                "p50_ms": round(self.pct(50), 1), "p99_ms": round(self.pct(99), 1),
                "ratio_to_null": ratio, "statuses": dict(sorted(self.statuses.items()))}


class Client:
    def __init__(self, base):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.conn = None

    def call(self, method, path, body=None, token=None, headers=None):
        h = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        payload = json.dumps(body) if body is not None else None
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=payload, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, (json.loads(data) if data else None)
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise


def run(name, base, request, concurrency, duration=None, total=None, expect=(200, 201)):
    """Drive ``request(client, i) -> status`` from ``concurrency`` clients for ``duration`` s or ``total`` calls.

    ``base`` may be a list of gateway addresses: the clients are spread over them evenly.
    """
    bases = base if isinstance(base, (list, tuple)) else [base]
    latencies, statuses = [], {}
    counter = iter(range(10**9))
    ok = [0]
    deadline = [None]

    def worker(k):
        client = Client(bases[k % len(bases)])
        while True:
            i = next(counter)
            if total is not None and i >= total:
                return
            if deadline[0] is not None and time.perf_counter() >= deadline[0]:
                return
            started = time.perf_counter()
            try:
                status = request(client, i)
            except Exception as exc:  # counted, not fatal: the figures say how many failed
                status = type(exc).__name__
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if status in expect:
                ok[0] += 1

    started = time.perf_counter()
    if duration is not None:
        deadline[0] = started + duration
    pool = eventlet.GreenPool(concurrency)
    for k in range(concurrency):
        pool.spawn(worker, k)
    pool.waitall()
    return Result(name, latencies, statuses, time.perf_counter() - started, ok[0])
