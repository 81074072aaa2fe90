"""`make bench`: every scenario in one run, on PostgreSQL, each beside the null path of the same run, measured
again just before each area (the ratios of an area are to that one).

    python -m bench [--seconds 8] [--concurrency 16] [--only null,applications,login]

Starts the system as processes (one per service, plus the gateway) on fresh PostgreSQL databases and a fresh
RabbitMQ vhost, drives it over HTTP with concurrent keep-alive clients, prints a table and writes
var/bench/last.json. Record what you quote in docs/benchmarks.md.

Each scenario also reports the CPU milliseconds a request cost each process (the services, the gateway, the
PostgreSQL backends of the system's databases, the load generator, and the local RabbitMQ broker as a whole: it
serves other vhosts too, so run nothing else on it meanwhile) and
the "CPU ratio to null": CPU per null request / CPU per request, what the ratio would be on a machine left to the
system. Other work on the machine moves it much less than it moves requests per second.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from bench import load  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import launch  # noqa: E402

PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres")
AREAS = ("foundation", "desk", "story", "shrine", "scaleout")


class Context:
    """What a scenario module gets: the running system and the tools to drive it."""

    def __init__(self, base, env, args, procs=(), tag=None):
        self.base = base
        self.env = env
        self.args = args
        self.procs = list(procs)
        self.tag = tag
        self.jwt_secret = env["JWT_SECRET"]
        self.results = []
        self.null = None
        self.notes = []
        self.extra = {}
        self.details = {}  # written to var/bench/last.json, not printed

    def client(self):
        return load.Client(self.base)

    def run(self, name, request, concurrency=None, duration=None, total=None, expect=(200, 201)):
        return self.run_on(self.base, name, request, concurrency, duration, total, expect)

    def run_on(self, bases, name, request, concurrency=None, duration=None, total=None, expect=(200, 201)):
        """``run`` with the clients spread over several gateway addresses (or one)."""
        with self.cpu_meter() as meter:
            result = load.run(name, bases, request, concurrency or self.args.concurrency,
                              duration=duration if duration is not None or total is not None else self.args.seconds,
                              total=total, expect=expect)
        result.cpu_ms = meter.per_request(result.ok)
        return self.record(result)

    def record(self, result):
        """Report a scenario against the null path measured last, before this area."""
        result.null = self.null
        self.results.append(result)
        print("  " + json.dumps(result.row(self.null), ensure_ascii=False), flush=True)
        return result

    def ping(self, client, i):
        """The null path's request (bench/foundation.py ``null_path`` logs the admin in first)."""
        return client.call("GET", "/api/v1/ping", token=self.admin)[0]

    def run_interleaved(self, name, request, total, slices=3, null_seconds=2.0, concurrency=None, expect=(200, 201)):
        """``total`` calls of a scenario in ``slices`` runs, each between two short runs of the null path
        (``null_seconds`` each): the scenario and its null path then share the same minutes
        slice by slice, and the ratio is taken between their sums. The machines this runs on change speed by a
        fifth within a minute (the load generator's own CPU per request moves as much as the system's), so a null
        path measured once before an area can be taken on a faster or slower stretch than the scenario after it.
        Returns (scenario, null path), each merged over its runs, with CPU per request."""
        concurrency = concurrency or self.args.concurrency
        nulls, null_spent = [], {}
        bounds = [total * k // slices for k in range(slices + 1)]
        result = self.run_between(
            name, slices,
            lambda k: load.run(name, self.base, request, concurrency, total=bounds[k + 1] - bounds[k], expect=expect,
                               start=bounds[k]),
            lambda k: nulls.append(self.measured(null_spent, lambda: load.run(
                "null", self.base, self.ping, concurrency, duration=null_seconds))))
        null = load.merge(f"null path, interleaved with {name}", nulls)
        null.cpu_ms = load.per_request(null_spent, null.ok)
        result.null = null
        self.results += [null, result]
        for r in (null, result):
            print("  " + json.dumps(r.row(null if r is result else None), ensure_ascii=False), flush=True)
        return result, null

    def run_between(self, name, slices, run_slice, between):
        """A scenario in ``slices`` runs (``run_slice(k)``, a ``load.Result``), each between two calls of
        ``between(k)`` (k from 0 to ``slices``: what the scenario is compared with, run in the same minutes).
        Returns the scenario merged over its runs, with CPU per request; ``record`` or ``run_interleaved`` report it."""
        parts, spent = [], {}
        for k in range(slices + 1):
            between(k)
            if k < slices:
                parts.append(self.measured(spent, lambda k=k: run_slice(k)))
        result = load.merge(name, parts)
        result.cpu_ms = load.per_request(spent, result.ok)
        return result

    def measured(self, into, run):
        """``run()`` under the CPU meter, its CPU seconds by process added to ``into``."""
        with self.cpu_meter() as meter:
            result = run()
        for label, seconds in meter.spent().items():
            into[label] = into.get(label, 0.0) + seconds
        return result

    def cpu_meter(self):
        """CPU spent by the system's processes, its PostgreSQL backends and the load generator while it runs: what
        a request costs, which other work on the machine changes much less than requests per second."""
        return load.CpuMeter([(label, proc.pid) for label, proc in self.procs] + load.broker_processes(), self.tag)

    def publish_event(self, service, event_type, envelope):
        from nameko.standalone.events import event_dispatcher
        event_dispatcher({"AMQP_URI": self.env["AMQP_URI"], "serializer": "json"})(service, event_type, envelope)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--only", default="", help="comma-separated areas: " + ",".join(AREAS))
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()

    problem = connection_budget() or port_taken(int(os.environ.get("BENCH_PORT", "8100")))
    if problem:
        sys.exit(problem)
    tag = uuid.uuid4().hex[:8]
    vhost = f"khademyar-bench-{tag}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                   capture_output=True)
    port = int(os.environ.get("BENCH_PORT", "8100"))
    env = dict(os.environ, AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
               WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
               DATABASE_URL=PG.rsplit("/", 1)[0] + f"/kb_{tag}_{{service}}",
               JWT_SECRET="bench-" + uuid.uuid4().hex, LOG_LEVEL="WARNING", MAX_WORKERS="64", DB_POOL_SIZE=str(POOL),
               KHADEMYAR_ADMIN_NATIONAL_ID="0000000019", KHADEMYAR_ADMIN_PASSWORD="bench-admin-password")
    log_dir = os.path.join(ROOT, "var", "bench", "log")
    procs = launch.start(env, log_dir=log_dir, metrics_base=9201)
    base = f"http://127.0.0.1:{port}"
    try:
        problem = launch.wait_ready(base, procs)
        if problem:
            sys.exit(problem)
        ctx = Context(base, env, args, procs, tag)
        print(f"system up on PostgreSQL; {args.concurrency} clients, {args.seconds:.0f} s a scenario", flush=True)
        wanted = [a for a in (args.only.split(",") if args.only else AREAS) if a]
        from bench.foundation import null_path
        null_path(ctx)
        for area in wanted:
            try:
                module = importlib.import_module(f"bench.{area}")
            except ModuleNotFoundError:
                print(f"(no bench/{area}.py yet)")
                continue
            print(f"[{area}]", flush=True)
            if area != wanted[0]:
                null_path(ctx, before=area)  # the null path of the same minutes as this area's scenarios
            module.scenarios(ctx)
        out = os.path.join(ROOT, "var", "bench", "last.json")
        with open(out, "w") as f:
            json.dump({"when": time.strftime("%Y-%m-%d %H:%M:%S"), "concurrency": args.concurrency,
                       "seconds": args.seconds, "results": [r.row(r.null) for r in ctx.results],
                       "extra": ctx.extra, "details": ctx.details, "notes": ctx.notes}, f, ensure_ascii=False, indent=2)
        print_table(ctx)
        print(f"\nwritten to {os.path.relpath(out, ROOT)}")
    finally:
        launch.stop(procs)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
        if not args.keep:
            drop_databases(tag)


def port_taken(port):
    """A message when something already listens on the bench's port (another bench still running, say): the
    bench would otherwise measure that system's gateway instead of its own."""
    import socket
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return (f"port {port} is taken (another bench or `make run` still running?): stop it, or set BENCH_PORT "
                    "to a free port")
    return None


POOL = 20  # DB_POOL_SIZE of the bench: each process keeps up to 2 x POOL connections


def connection_budget():
    """A clear refusal instead of a storm of timeouts when PostgreSQL cannot take the bench's connections: six
    services and, for the scale-out, a second shrine process, 2 x DB_POOL_SIZE each, and a few for the checkers."""
    needed = 2 * POOL * 7 + 20
    engine = create_engine(PG)
    try:
        with engine.connect() as conn:
            have = int(conn.execute(text("SHOW max_connections")).scalar())
    finally:
        engine.dispose()
    if have < needed:
        return (f"PostgreSQL allows {have} connections; the bench needs {needed}. Raise it and restart PostgreSQL:\n"
                f"  psql -U postgres -c 'ALTER SYSTEM SET max_connections = 400'\n"
                f"  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart")
    return None


def print_table(ctx):
    print("\n| scenario | requests | ok/s | p50 ms | p99 ms | ratio to null | CPU ratio to null | CPU ms per request |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in ctx.results:
        row = r.row(r.null)
        cpu = ", ".join(f"{k} {v}" for k, v in row["cpu_ms"].items())
        print(f"| {row['scenario']} | {row['requests']} | {row['rps']} | {row['p50_ms']} | {row['p99_ms']} | "
              f"{row['ratio_to_null']} | {row['cpu_ratio_to_null']} | {cpu} |")
    for key, value in ctx.extra.items():
        print(f"{key}: {value}")
    for note in ctx.notes:
        print(note)


def drop_databases(tag):
    engine = create_engine(PG, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": f"kb_{tag}_%"}).scalars():
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


if __name__ == "__main__":
    main()
