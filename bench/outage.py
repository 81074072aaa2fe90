"""The booking storm with RabbitMQ killed and started again in the middle of it (`make bench-outage`).

    python -m bench --only outage

It kills the broker's Erlang VM with SIGKILL (no clean shutdown, on the whole machine: run it alone), starts it
again with ``rabbitmq-server -detached``, and lets the storm go on. The members' clients behave like the mobile
app: an attempt that gets no answer or a 5xx is sent again, after a pause, with the **same Idempotency-Key**,
until it gets a real answer (201, 409, 429). Afterwards it requires:

- every invariant of the storm checker (bench/shrine.py ``check``): no shift over capacity, no overlapping shifts,
  no duplicate, every 201 present in the database, every 409 justified, and every booking held was answered 201
  to some attempt (nothing booked behind a client's back);
- no event lost: every booking held is announced by a ``ShiftBooked`` event that reached a durable queue bound
  before the storm (duplicates are allowed: delivery is at least once), and the shrine's outbox is empty;
- the system serves again without a manual step: every process is still running and ``/readyz`` answers 200.
"""
import json
import os
import subprocess
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import eventlet
from kombu import Connection, Exchange, Queue
from sqlalchemy import create_engine, text

from bench.shrine import Client, check, collect, layout, make_members, mint, percentile, publish_shifts


def broker_pid():
    out = subprocess.run(["rabbitmqctl", "-q", "eval", "os:getpid()."], capture_output=True, text=True, timeout=30)
    return int(out.stdout.strip().strip('"'))


def kill_and_restart_broker(down_seconds):
    """SIGKILL the broker's VM, keep it down ``down_seconds``, start it again; the seconds until it took work."""
    pid = broker_pid()
    os.kill(pid, 9)
    killed = time.monotonic()
    for _ in range(100):  # the VM is gone when its pid is
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    time.sleep(down_seconds)
    subprocess.run(["rabbitmq-server", "-detached"], capture_output=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "await_startup", "--timeout", "120"], capture_output=True, timeout=150)
    return round(time.monotonic() - killed, 1)


def probe_queue(amqp_uri):
    """A durable queue of every ShiftBooked, bound before the storm: what an SMS integrator would receive."""
    queue = Queue(f"bench-outage-shiftbooked-{uuid.uuid4().hex[:8]}",
                  Exchange("shrine.events", type="topic", durable=True), routing_key="ShiftBooked", durable=True)
    with Connection(amqp_uri) as conn:
        queue(conn.default_channel).declare()
    return queue


def drain(amqp_uri, queue):
    """The event ids waiting in ``queue`` (acknowledged as read), and the number of messages."""
    ids, messages = set(), 0
    with Connection(amqp_uri) as conn:
        bound = queue(conn.default_channel)
        while True:
            message = bound.get(no_ack=True)
            if message is None:
                break
            messages += 1
            body = message.payload if isinstance(message.payload, dict) else json.loads(message.body)
            ids.add(body["payload"]["booking_id"])
        bound.delete()
    return ids, messages


def fire_until_answered(client, tasks, concurrency, give_up_after=180):
    """Each attempt is sent until it gets a real answer; a failed send is retried with the same key."""

    def one(task):
        member, shift_id, key = task
        started = time.perf_counter()
        tries = 0
        while True:
            tries += 1
            try:
                status, body = client.call("POST", f"/shrine/shifts/{shift_id}/bookings", member["token"],
                                           headers={"Idempotency-Key": key})
            except OSError as exc:
                status, body = 0, {"code": type(exc).__name__}
            if status in (201, 202, 409, 429) or time.perf_counter() - started > give_up_after:
                break
            time.sleep(min(0.5 * tries, 3))
        return {"member": member["id"], "token": member["token"], "shift": shift_id, "key": key, "status": status,
                "body": body or {}, "ms": (time.perf_counter() - started) * 1000, "at": time.perf_counter(),
                "tries": tries}

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, tasks))


def scenarios(ctx):
    import random

    n = int(os.environ.get("BENCH_OUTAGE_MEMBERS", "2000"))
    places = int(os.environ.get("BENCH_OUTAGE_PLACES", "400"))
    kill_after = float(os.environ.get("BENCH_OUTAGE_AFTER", "2"))
    down = float(os.environ.get("BENCH_OUTAGE_DOWN", "3"))
    amqp = ctx.env["AMQP_URI"]
    client = Client(ctx.base, 64)
    office = mint(ctx.jwt_secret, "bench-office-" + uuid.uuid4().hex[:8], role="shrine_office")
    people = make_members(ctx.base, ctx.jwt_secret, ctx.publish_event, n, concurrency=64, client=client)
    shift_ids = publish_shifts(client, office, layout(max(1, places // 10), 10))
    probe = probe_queue(amqp)
    rng = random.Random(7)
    tasks = [(p, s, uuid.uuid4().hex) for p in people for s in rng.sample(shift_ids, min(4, len(shift_ids)))]
    rng.shuffle(tasks)

    started = time.perf_counter()
    storm = eventlet.spawn(fire_until_answered, client, tasks, 64)
    eventlet.sleep(kill_after)
    outage = kill_and_restart_broker(down)
    results = storm.wait()
    elapsed = time.perf_counter() - started

    ready = None
    for waited in range(90):
        try:
            with urllib.request.urlopen(ctx.base + "/readyz", timeout=5) as answer:
                if answer.status == 200:
                    ready = waited
                    break
        except OSError:  # urllib's HTTPError (a 503) is one too
            pass
        time.sleep(1)
    shifts, roster = collect(client, office, shift_ids)
    violations = check(results, shifts, roster)
    held = {b["id"] for items in roster.values() for b in items}
    engine = create_engine(ctx.env["DATABASE_URL"].replace("{service}", "shrine"))
    deadline = time.time() + 60
    while True:
        with engine.connect() as conn:
            pending = conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar()
        if not pending or time.time() > deadline:
            break
        time.sleep(1)
    engine.dispose()
    eventlet.sleep(2)
    announced, messages = drain(amqp, probe)
    if pending:
        violations.append(f"{pending} shrine events still unpublished a minute after the storm")
    missing = held - announced
    if missing:
        violations.append(f"{len(missing)} bookings held without their ShiftBooked event, e.g. {sorted(missing)[:3]}")
    dead = [label for label, proc in ctx.procs if proc.poll() is not None]
    if dead:
        violations.append(f"processes exited: {dead}")
    if ready is None:
        violations.append("/readyz did not answer 200 within 90 s after the storm")
    statuses = {}
    for r in results:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
    figures = {
        "attempts": len(results), "statuses": statuses, "seconds": round(elapsed, 1),
        "broker_down_to_ready_s": outage, "retried_attempts": sum(1 for r in results if r["tries"] > 1),
        "most_tries": max((r["tries"] for r in results), default=0), "bookings_held": len(held),
        "shiftbooked_messages": messages, "shiftbooked_distinct": len(announced),
        "p50_ms": round(percentile([r["ms"] for r in results], 50), 1),
        "p99_ms": round(percentile([r["ms"] for r in results], 99), 1),
        "violations": len(violations),
    }
    ctx.extra["shrine_storm_broker_killed"] = figures
    ctx.notes += [f"outage storm violation: {v}" for v in violations[:20]]
    print("  " + json.dumps(figures, ensure_ascii=False), flush=True)
