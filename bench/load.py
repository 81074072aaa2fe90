"""A small closed-loop HTTP load generator: N green-thread clients, each with a keep-alive connection."""
import http.client
import json
import os
import subprocess
import time
from urllib.parse import urlsplit

import eventlet

TICK = os.sysconf("SC_CLK_TCK")


def process_stat(pid):
    """(user + system CPU seconds, start time in seconds since boot) of a process; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, int(fields[19]) / TICK


def process_cpu(pid):
    """User + system CPU seconds of a process (0 when it is gone)."""
    stat = process_stat(pid)
    return stat[0] if stat else 0.0


def uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


MACHINE_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def machine_stat():
    """The whole machine's CPU seconds so far (all cores added), from /proc/stat: ``busy`` (user, nice and system
    time: every process's work, the kernel's on their behalf included), ``interrupts`` (irq and softirq), ``idle``,
    ``iowait`` and ``steal`` (time the hypervisor gave this virtual machine's cores to another: the machine was
    slower, not the system). Empty where /proc/stat cannot be read."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) / TICK for v in f.readline().split()[1:1 + len(MACHINE_FIELDS)]]
    except (OSError, ValueError):
        return {}
    stat = dict(zip(MACHINE_FIELDS, values, strict=False))  # an old kernel has fewer fields
    stat["busy"] = sum(stat.get(k, 0.0) for k in ("user", "nice", "system"))  # processes (interrupts apart)
    stat["interrupts"] = stat.get("irq", 0.0) + stat.get("softirq", 0.0)
    return stat


def postgres_backends(tag):
    """Pids of the PostgreSQL backends serving the databases whose names start with ``kb_<tag>_``."""
    needle = f" kb_{tag}_".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if needle in f.read():
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def broker_processes():
    """[("rabbitmq", pid)] of the local RabbitMQ (its Erlang VM), when this machine runs it and we may read it."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if b"beam.smp" in cmdline and b"rabbit" in cmdline:
                return [("rabbitmq", int(entry))]
    return []


def broker_connections_opened():
    """Connections the local RabbitMQ has accepted since it started (its churn counter), or None where it cannot
    be asked. Read before and after a scenario: the connections it opened (the publishers' lines, kit/amqp.py)."""
    try:
        out = subprocess.run(["rabbitmqctl", "-q", "eval", "ets:tab2list(connection_churn_metrics)."],
                             capture_output=True, text=True, timeout=30)
        # [{rabbit@host,ConnectionsCreated,ConnectionsClosed,ChannelsCreated,...}]
        return int(out.stdout.split(",")[1]) if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


class CpuMeter:
    """CPU seconds spent, while it runs, by each process of the system (``procs``: (label, pid) pairs), by the
    PostgreSQL backends of its databases and by this load generator.

    Backends come and go with the connection pools, so they are sampled every ``interval`` seconds: one that ends
    between two samples loses its last moments, nothing more.

    Each sample also reads the whole machine (``machine_stat``), kept in ``series`` as (``time.perf_counter()``,
    the measured processes' CPU seconds so far by label, the machine's counters): what each process and everything
    else did, and what the hypervisor took, second by second (``machine``, ``bench.shrine.timeline``)."""

    def __init__(self, procs, tag=None, interval=0.5):
        self.procs = list(procs)
        self.tag = tag
        self.interval = interval
        self.first, self.last = {}, {}
        self.series = []
        self.running = False
        self.thread = None

    def sample(self):
        self._sample_processes()
        self.series.append((time.perf_counter(), self.spent(), machine_stat()))

    def machine(self):
        """Cores' seconds of the whole machine while the meter ran: the processes measured (``measured``: the
        system, its PostgreSQL backends, the broker and the load generator), every other process (``others``),
        the kernel's interrupt handling (``interrupts``: much of it the loopback network's), ``idle``, ``iowait``
        and ``steal``."""
        return machine_between(self.series[0], self.series[-1]) if len(self.series) > 1 else {}

    def _sample_processes(self):
        seen = {("clients", 0): (sum(os.times()[:2]), 0.0)}
        for label, pid in self.procs:
            seen[(label, pid)] = process_stat(pid)
        if self.tag:
            for pid in postgres_backends(self.tag):
                seen[("postgres", pid)] = process_stat(pid)
        for key, stat in seen.items():
            if stat is None:  # gone since it was listed: its last sample stands
                continue
            cpu, started = stat
            if key not in self.first:
                # a backend that started while the meter ran counts from nothing; one that was there before and
                # went unseen at first (its title was being rewritten) counts from when it was first seen
                self.first[key] = 0.0 if started >= self.started else cpu
            self.last[key] = cpu

    def _loop(self):
        while self.running:
            eventlet.sleep(self.interval)
            if self.running:
                self.sample()

    def __enter__(self):
        self.started = uptime()
        self.sample()
        self.running = True
        self.thread = eventlet.spawn(self._loop)
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.wait()
        self.sample()

    def spent(self):
        """CPU seconds spent while it ran, by label (the PostgreSQL backends together)."""
        spent = {}
        for key, value in self.last.items():
            spent[key[0]] = spent.get(key[0], 0.0) + value - self.first[key]
        return spent

    def per_request(self, requests):
        """Milliseconds of CPU per request of each process that used a noticeable share."""
        return per_request(self.spent(), requests)


def machine_between(earlier, later):
    """What the machine did between two samples of ``CpuMeter.series``, in cores' seconds (see ``machine``)."""
    _, ours_then, then = earlier
    _, ours_now, now = later
    if not then or not now:
        return {}
    delta = {k: now[k] - then[k] for k in now}
    measured = sum(ours_now.values()) - sum(ours_then.values())
    figures = {"measured": measured, "others": max(0.0, delta["busy"] - measured)}
    figures.update({k: delta[k] for k in ("interrupts", "idle", "iowait", "steal")})
    return {k: round(v, 2) for k, v in figures.items()}


def per_request(spent, requests):
    """CPU seconds by label (``CpuMeter.spent``, or several added up) -> milliseconds per request, the noticeable."""
    if not requests:
        return {}
    ms = {k: v * 1000 / requests for k, v in spent.items()}
    return {k: round(v, 2) for k, v in sorted(ms.items(), key=lambda kv: -kv[1]) if v >= 0.05}


def merge(name, results):
    """One result of several runs of a scenario (the slices of ``Context.run_interleaved``)."""
    statuses = {}
    for r in results:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    return Result(name, [t for r in results for t in r.latencies], statuses, sum(r.elapsed for r in results),
                  sum(r.ok for r in results))


class Result:
    def __init__(self, name, latencies, statuses, elapsed, ok):
        self.name = name
        self.latencies = sorted(latencies)
        self.statuses = statuses
        self.elapsed = elapsed
        self.ok = ok
        self.cpu_ms = {}  # CPU milliseconds per successful request, by process (filled in by bench/__main__.py)
        self.null = None  # the null path its ratio is taken against (bench/__main__.py)

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

    @property
    def cpu_total(self):
        return sum(self.cpu_ms.values())

    def row(self, null=None):
        ratio = f"{self.rps / null.rps:.2f}" if null is not None and null.rps else "1.00"
        # what the ratio would be on a machine given to the system alone: CPU per null request / CPU per request
        cpu_ratio = (round(null.cpu_total / self.cpu_total, 2)
                     if null is not None and null.cpu_total and self.cpu_total else None)
        return {"scenario": self.name, "requests": self.count, "ok": self.ok, "rps": round(self.rps, 1),
                "p50_ms": round(self.pct(50), 1), "p99_ms": round(self.pct(99), 1),
                "ratio_to_null": ratio, "statuses": dict(sorted(self.statuses.items())), "cpu_ms": self.cpu_ms,
                "cpu_ratio_to_null": cpu_ratio}


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


def run(name, base, request, concurrency, duration=None, total=None, expect=(200, 201), start=0):
    """Drive ``request(client, i) -> status`` from ``concurrency`` clients for ``duration`` s or ``total`` calls,
    ``i`` counting from ``start``.

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
            i += start
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
