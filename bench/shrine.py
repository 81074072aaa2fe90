"""The booking storm (کشیک): many members booking few shift places at once, through the HTTP API only.

``run(base_url, jwt_secret, publish_event, n_members, n_shifts, capacity, attempts_per_member, concurrency)``
drives it against a running system and returns ``{attempts, accepted, rejected, accepted_per_s,
rejected_per_s, p50_ms, p99_ms, violations, ...}``; ``violations`` lists every broken invariant found by
comparing each client's answer with what the API reports afterwards (empty when all is well).

Members are synthetic: ``MemberActivated`` and ``ReportApproved`` are published for fresh ids through
``publish_event(service, event_type, envelope)`` (given by the caller), and their tokens are minted with the
JWT secret, so no password hashing slows the set-up.  A shrine-office token is minted the same way.
"""
import datetime as dt
import gc
import http.client
import json as json_lib
import random
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bench import load
from gateway import auth

API = "/api/v1"
HOLDING = ("booked", "offered")


# -- set-up: tokens, synthetic members, shifts
def mint(jwt_secret, member_id, role="member", province="9", ttl=7200):
    claims = {"id": member_id, "role": role, "province": province, "county": None, "field": None, "center": None,
              "unit": None, "must_change_password": False}
    return auth.issue(claims, jwt_secret, ttl)


def envelope(event_type, payload, province="9"):
    return {"event_id": uuid.uuid4().hex, "event_type": event_type, "version": 1,
            "occurred_at": dt.datetime.now(dt.timezone.utc).isoformat(), "province": province,
            "correlation_id": None, "payload": payload}


class Client:
    """Keep-alive HTTP connections, one per concurrent caller, on ``http.client``: the load generator shares the
    machine with the system it measures, and ``requests`` costs several times the CPU per call."""

    def __init__(self, base_url, pool=10, timeout=60):
        """``call`` answers (status, JSON body or None), or raises an OSError when the request failed."""
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/") + API
        self.timeout = timeout
        self.keep = max(10, pool)
        self.idle = []  # connections between calls, last in first out

    def call(self, method, path, token=None, json=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        payload = None
        if json is not None:
            payload = json_lib.dumps(json)
            h["Content-Type"] = "application/json"
        while True:
            try:
                conn, reused = self.idle.pop(), True
            except IndexError:
                conn, reused = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout), False
            try:
                conn.request(method, self.prefix + path, body=payload, headers=h)
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if reused:  # the server had closed an idle connection: the request never reached it
                    continue
                if isinstance(exc, OSError):
                    raise
                raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
            if len(self.idle) < self.keep:
                self.idle.append(conn)
            else:
                conn.close()
            try:
                return r.status, json_lib.loads(data) if data else None
            except ValueError:
                return r.status, None


def approve_report(publish_event, member_id, province="9"):
    """What reporting publishes when a supervisor approves a member's report (the eligibility trigger)."""
    publish_event("reporting", "ReportApproved", envelope("ReportApproved", {
        "report_id": uuid.uuid4().hex, "member_id": member_id, "reservation_id": uuid.uuid4().hex,
        "offer_id": uuid.uuid4().hex, "performed_on": dt.date.today().isoformat(), "hours": 2,
        "first_for_member": True}, province))


def make_members(base_url, jwt_secret, publish_event, n, province="9", gender="female", education="bachelor",
                 eligible=True, timeout=None, concurrency=20, client=None):
    """``n`` synthetic members known to the shrine service; eligible ones are waited for until they are (two
    events each to consume: a minute, or longer for thousands on a slow machine)."""
    timeout = timeout if timeout is not None else max(60, n / 25)
    client = client or Client(base_url, concurrency)
    people = []
    for _ in range(n):
        member_id = uuid.uuid4().hex
        publish_event("membership", "MemberActivated", envelope("MemberActivated", {
            "member_id": member_id, "national_id": "0000000000", "first_name": "خادمیار", "last_name": "آزمون",
            "gender": gender, "education": education, "county": "", "mobile": "09120000000"}, province))
        if eligible:
            approve_report(publish_event, member_id, province)
        people.append({"id": member_id, "token": mint(jwt_secret, member_id, province=province), "gender": gender,
                       "education": education, "province": province})
    expected = "eligible" if eligible and education != "below_diploma" else (
        "below_diploma" if education == "below_diploma" else None)
    if expected:
        wait_for_eligibility(client, people, expected, timeout, concurrency)
    return people


def wait_for_eligibility(client, people, code, timeout=60, concurrency=20):
    deadline = time.time() + timeout

    def wait(person):
        while time.time() < deadline:
            status, body = client.call("GET", "/shrine/eligibility", person["token"])
            if status == 200 and body["code"] == code:
                return True
            time.sleep(0.5)  # not faster: the polls compete with the consumers they wait for
        return False

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(people)))) as pool:
        late = [p["id"] for p, ok in zip(people, pool.map(wait, people), strict=True) if not ok]
    if late:
        raise TimeoutError(f"{len(late)} members not {code} after {timeout}s (events not consumed?)")


def layout(n_shifts, capacity, start=None, opens_at=None):
    """Two-hour shifts every ninety minutes: each overlaps its neighbours, not the ones beyond."""
    start = start or (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30, minutes=random.randrange(0, 10000)))
    start = start.replace(second=0, microsecond=0)
    shifts = []
    for i in range(n_shifts):
        begins = start + dt.timedelta(minutes=90 * i)
        shift = {"starts_at": begins.isoformat(), "ends_at": (begins + dt.timedelta(hours=2)).isoformat(),
                 "post": f"رواق امام خمینی، درب {i + 1}", "capacity": capacity}
        if opens_at is not None:
            shift["opens_at"] = opens_at.isoformat()
        shifts.append(shift)
    return shifts


def publish_shifts(client, office_token, shifts):
    ids = []
    for i in range(0, len(shifts), 500):
        status, body = client.call("POST", "/shrine/shifts", office_token, {"shifts": shifts[i:i + 500]})
        if status != 201:
            raise RuntimeError(f"publishing shifts failed: {status} {body}")
        ids += body["ids"]
    return ids


# -- the storm
def fire(client, tasks, concurrency):
    """Send every (member, shift) attempt from ``concurrency`` concurrent clients; answers with latencies."""
    def one(task):
        member, shift_id, key = task
        started = time.perf_counter()
        try:
            status, body = client.call("POST", f"/shrine/shifts/{shift_id}/bookings", member["token"],
                                       headers={"Idempotency-Key": key})
        except OSError as exc:
            status, body = 0, {"code": type(exc).__name__}
        return {"member": member["id"], "token": member["token"], "shift": shift_id, "key": key, "status": status,
                "body": body or {}, "ms": (time.perf_counter() - started) * 1000, "at": time.perf_counter()}

    # The load generator's own garbage collections would stop its 64 client threads together (they share one
    # interpreter; a full collection walks every result kept so far) and count as the system's latency. People's
    # phones do not pause together. (The pauses the storm did show came from the gateway: kit/runtime.py.)
    gc.collect()
    gc.disable()
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            return list(pool.map(one, tasks))
    finally:
        gc.enable()


def storm(base_url, jwt_secret, publish_event, n_members, n_shifts, capacity, attempts_per_member, concurrency,
          province="9", rng=None, fair=False, members=None, retries=0):
    """Set up members and shifts, fire the storm; the raw material of ``run`` and of the tests' checkers.

    ``fair=True`` opens the shifts now, so every attempt lands in the fair-opening window (202); ``retries``
    sends each attempt that many extra times, concurrently, with the same Idempotency-Key.
    """
    rng = rng or random.Random()
    client = Client(base_url, concurrency)
    office = mint(jwt_secret, "bench-office-" + uuid.uuid4().hex[:8], role="shrine_office", province=province)
    people = members or make_members(base_url, jwt_secret, publish_event, n_members, province=province,
                                     concurrency=concurrency, client=client)
    opens_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1) if fair else None
    shift_ids = publish_shifts(client, office, layout(n_shifts, capacity, opens_at=opens_at))
    tasks = []
    for person in people:
        for shift_id in rng.sample(shift_ids, min(attempts_per_member, len(shift_ids))):
            key = uuid.uuid4().hex
            tasks += [(person, shift_id, key)] * (1 + retries)
    rng.shuffle(tasks)
    started = time.perf_counter()
    results = fire(client, tasks, concurrency)
    elapsed = time.perf_counter() - started
    return {"client": client, "office": office, "members": people, "shift_ids": shift_ids, "results": results,
            "elapsed": elapsed, "started": started}


def collect(client, office, shift_ids):
    """What the API says afterwards: each shift, and its bookings that hold a place."""
    shifts, roster = {}, {}
    for shift_id in shift_ids:
        status, body = client.call("GET", f"/shrine/shifts/{shift_id}", office)
        if status != 200:
            raise RuntimeError(f"reading shift {shift_id}: {status} {body}")
        shifts[shift_id] = body
        items, cursor = [], None
        while True:
            path = f"/shrine/shifts/{shift_id}/bookings?status=holding&limit=1000"
            path += f"&cursor={cursor}" if cursor else ""
            status, body = client.call("GET", path, office)
            if status != 200:
                raise RuntimeError(f"reading roster of {shift_id}: {status} {body}")
            items += body["items"]
            cursor = body["next"]
            if not cursor:
                break
        roster[shift_id] = items
    return shifts, roster


def _parse(moment):
    return dt.datetime.fromisoformat(moment)


def check(results, shifts, roster, outcomes=None):
    """Every invariant of the storm, client answers against the final state; a list of violations.

    ``outcomes`` maps attempt ids to their decided outcome (fair-opening attempts that answered 202).
    """
    violations = []
    window = {sid: (_parse(s["starts_at"]), _parse(s["ends_at"])) for sid, s in shifts.items()}
    holding = {}
    held_by = defaultdict(list)
    for shift_id, items in roster.items():
        cap = shifts[shift_id]["capacity"]
        if len(items) > cap:
            violations.append(f"shift {shift_id} holds {len(items)} bookings over its capacity {cap}")
        if shifts[shift_id]["booked"] != len(items):
            violations.append(f"shift {shift_id} counter says {shifts[shift_id]['booked']}, roster {len(items)}")
        seen = Counter(b["member_id"] for b in items)
        for member_id, times in seen.items():
            if times > 1:
                violations.append(f"member {member_id} holds shift {shift_id} {times} times")
        for b in items:
            holding[b["id"]] = b
            held_by[b["member_id"]].append(shift_id)
    for member_id, held in held_by.items():
        for i, a in enumerate(held):
            for b in held[i + 1:]:
                if a != b and window[a][0] < window[b][1] and window[b][0] < window[a][1]:
                    violations.append(f"member {member_id} holds overlapping shifts {a} and {b}")
    answered = {}
    for r in results:
        body, status = r["body"], r["status"]
        booking_id = None
        if status == 201:
            booking_id = body.get("id")
        elif status == 202 and outcomes is not None:
            decided = outcomes.get(body.get("attempt"))
            if decided is None or decided["status"] == "pending":
                violations.append(f"attempt {body.get('attempt')} still undecided after the draw")
                continue
            if decided["status"] == "granted":
                booking_id = decided["booking_id"]
            else:
                status, body = 409, {"code": decided["outcome"]}
        if booking_id:
            b = holding.get(booking_id)
            if b is None:
                violations.append(f"accepted booking {booking_id} of {r['member']} on {r['shift']} is missing")
            elif b["member_id"] != r["member"] or b["shift_id"] != r["shift"]:
                violations.append(f"accepted booking {booking_id} belongs to another member or shift")
            previous = answered.setdefault(r["key"], booking_id)
            if previous != booking_id:
                violations.append(f"Idempotency-Key {r['key']} answered two bookings {previous}, {booking_id}")
        elif status == 409:
            code = body.get("code")
            mine = held_by.get(r["member"], [])
            if code == "full":
                if len(roster[r["shift"]]) < shifts[r["shift"]]["capacity"]:
                    violations.append(f"409 full on {r['shift']} for {r['member']} but the shift has room")
            elif code == "overlap":
                s, e = window[r["shift"]]
                if not any(o != r["shift"] and window[o][0] < e and s < window[o][1] for o in mine):
                    violations.append(f"409 overlap for {r['member']} on {r['shift']} without an overlapping shift")
            elif code == "already_booked":
                if r["shift"] not in mine:
                    violations.append(f"409 already_booked for {r['member']} on {r['shift']} not held")
            else:
                violations.append(f"unexpected 409 {code} for {r['member']} on {r['shift']}")
        elif status not in (202, 429):
            violations.append(f"attempt of {r['member']} on {r['shift']} answered {status} {body.get('code')}")
    accepted_ids = {v for v in answered.values()}
    for booking_id, b in holding.items():
        if booking_id not in accepted_ids:
            violations.append(f"booking {booking_id} of {b['member_id']} on {b['shift_id']} was never accepted")
    return violations


def attempt_outcomes(client, results, timeout=60):
    """The decided outcome of every attempt that answered 202, read by its member once the draw has run."""
    tokens = {r["body"]["attempt"]: r["token"] for r in results if r["status"] == 202}
    out = {}
    deadline = time.time() + timeout
    for attempt_id, token in tokens.items():
        while True:
            status, body = client.call("GET", f"/shrine/attempts/{attempt_id}", token)
            if status == 200 and (body["status"] != "pending" or time.time() > deadline):
                out[attempt_id] = body
                break
            if status != 200 and time.time() > deadline:
                break
            time.sleep(0.2)
    return out


def percentile(values, q):
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[k]


def summarise(done, violations):
    results, elapsed = done["results"], done["elapsed"]
    statuses = Counter(r["status"] for r in results)
    accepted = statuses.get(201, 0) + statuses.get(202, 0)
    rejected = statuses.get(409, 0)
    latencies = [r["ms"] for r in results]
    # the booking window: from the first attempt to the last place granted; rejections once a shift was full
    filled = max((r["at"] for r in results if r["status"] in (201, 202)), default=done["started"]) - done["started"]
    return {
        "attempts": len(results), "accepted": accepted, "rejected": rejected,
        "errors": len(results) - accepted - rejected,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(elapsed, 3),
        "accepted_per_s": round(accepted / elapsed, 1) if elapsed else 0.0,
        "fill_seconds": round(filled, 3),
        "accepted_per_s_while_places_remained": round(accepted / filled, 1) if filled else 0.0,
        "rejected_per_s": round(rejected / elapsed, 1) if elapsed else 0.0,
        "attempts_per_s": round(len(results) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(percentile(latencies, 99), 1),
        # while places remained, bookings queue on their shift's row; afterwards every answer is a refusal
        "p99_ms_while_places_remained": round(percentile(
            [r["ms"] for r in results if r["at"] - done["started"] <= filled], 99), 1),
        "p99_ms_after": round(percentile([r["ms"] for r in results if r["at"] - done["started"] > filled], 99), 1),
        "violations": violations,
    }


def timeline(done, window=2.0, series=None):
    """The storm's answers by when they were sent, in windows of ``window`` seconds: how many, how many booked,
    p50/p99/max. Where the tail comes from (the opening seconds, when every client starts at once and every
    attempt is a booking, or later), which one p99 over the whole storm does not say.

    With a ``series`` of samples (bench/load.py ``CpuMeter.series``), each window also says how the two cores were
    spent meanwhile (``cores``: the measured processes, other processes, interrupts, idle, steal) and what an
    answer cost each process (``cpu_ms``): a window that is slow because each answer cost more of every process,
    the load generator's fixed work included, is a slower machine; one process alone, that process."""
    windows = {}
    for r in done["results"]:
        sent = r["at"] - r["ms"] / 1000 - done["started"]
        windows.setdefault(max(0, int(sent // window)), []).append(r)
    rows = []
    for k in sorted(windows):
        answers = windows[k]
        latencies = [r["ms"] for r in answers]
        row = {"from_s": round(k * window, 1), "sent": len(answers),
               "booked": sum(1 for r in answers if r["status"] in (201, 202)),
               "p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(percentile(latencies, 99), 1),
               "max_ms": round(max(latencies), 1)}
        if series:
            earlier, later = enclosing(series, done["started"] + k * window, done["started"] + (k + 1) * window)
            seconds = later[0] - earlier[0]
            if seconds > 0:
                row["cores"] = {key: round(v / seconds, 2) for key, v in load.machine_between(earlier, later).items()}
                # answers sent in the window against the CPU spent in it: the same in a steady storm
                spent = {key: v - earlier[1].get(key, 0.0) for key, v in later[1].items()}
                row["cpu_ms"] = load.per_request(spent, len(answers))
        rows.append(row)
    return rows


def machine_drift(rows):
    """The load generator's CPU per attempt in the slowest and the fastest whole window of ``timeline`` (the first
    and the last left out: the clients start and finish there), and their ratio. Its work per attempt is the same
    throughout, so the ratio is how much the machine's speed moved during the storm."""
    spent = [r["cpu_ms"]["clients"] for r in rows[1:-1] if r.get("cpu_ms", {}).get("clients")]
    if not spent:
        return {}
    return {"clients_ms_per_attempt": [min(spent), max(spent)], "slowest_over_fastest": round(max(spent) / min(spent), 2)}


def enclosing(series, start, end):
    """The samples of ``series`` nearest around ``start`` and ``end`` (``time.perf_counter()``)."""
    before = [s for s in series if s[0] <= start] or series[:1]
    after = [s for s in series if s[0] >= end] or series[-1:]
    return before[-1], after[0]


def run(base_url, jwt_secret, publish_event, n_members, n_shifts, capacity, attempts_per_member, concurrency,
        province="9", seed=None):
    """The storm, checked: the figures of ``make bench`` and every invariant violation found (none, we hope)."""
    done = storm(base_url, jwt_secret, publish_event, n_members, n_shifts, capacity, attempts_per_member,
                 concurrency, province=province, rng=random.Random(seed))
    shifts, roster = collect(done["client"], done["office"], done["shift_ids"])
    return summarise(done, check(done["results"], shifts, roster))



def scenarios(ctx):
    """``make bench`` (bench/__main__.py): the booking path beside the null path, then the storm, checked.

    1. Booking path: every attempt can succeed (each member books one of 50 shifts of ample capacity): accepted bookings/s,
       p50/p99 and the ratio to the null path, run in three slices between short runs of the null path
       (``Context.run_interleaved``).
    2. The storm of a week's opening: ``BENCH_SHRINE_MEMBERS`` (default 5000) members, four attempts each,
       ``BENCH_SHRINE_PLACES`` (default 1000) places in shifts of 10, from 64 concurrent clients; every answer
       is then checked against the database (capacity, overlap, duplicates, every 201 present, every 409 due).
    """
    import json
    import os

    client = Client(ctx.base, 64)
    office = mint(ctx.jwt_secret, "bench-office-" + uuid.uuid4().hex[:8], role="shrine_office")
    n_path = int(os.environ.get("BENCH_SHRINE_PATH_MEMBERS", "3000"))
    people = make_members(ctx.base, ctx.jwt_secret, ctx.publish_event, n_path, concurrency=64, client=client)
    shift_ids = publish_shifts(client, office, layout(50, n_path // 50 + 10))  # a week's shifts, not one

    def book(cl, i):
        shift = shift_ids[i % len(shift_ids)]
        return cl.call("POST", f"/api/v1/shrine/shifts/{shift}/bookings", token=people[i]["token"])[0]

    ctx.run_interleaved("POST /shrine/shifts/{id}/bookings (accepted)", book, len(people), expect=(201,))

    n = int(os.environ.get("BENCH_SHRINE_MEMBERS", "5000"))
    places = int(os.environ.get("BENCH_SHRINE_PLACES", "1000"))
    storm_members = make_members(ctx.base, ctx.jwt_secret, ctx.publish_event, n, concurrency=64, client=client)
    print(f"  the storm: {n} members ready, {places} places", flush=True)
    connections = load.broker_connections_opened()
    with ctx.cpu_meter() as meter:  # the storm alone (and the publication of its shifts)
        done = storm(ctx.base, ctx.jwt_secret, ctx.publish_event, n, max(1, places // 10), 10, 4, concurrency=64,
                     members=storm_members)
    cpu = meter.per_request(len(done["results"]))
    shifts, roster = collect(done["client"], done["office"], done["shift_ids"])
    figures = summarise(done, check(done["results"], shifts, roster))
    violations = figures.pop("violations")
    ctx.extra["shrine_storm"] = dict(figures, violations=len(violations), cpu_ms_per_attempt=cpu)
    ctx.extra["shrine_storm"]["machine_cores_s"] = meter.machine()  # what else the two cores did meanwhile
    rows = ctx.details["shrine_storm_timeline"] = timeline(done, series=meter.series)  # last.json only: per 2 s
    ctx.extra["shrine_storm"]["machine_drift"] = machine_drift(rows)
    after = load.broker_connections_opened()  # the publishers' lines, the checkers' and the shifts' publication
    opened = after - connections if None not in (connections, after) else None
    ctx.extra["shrine_storm"]["broker_connections_opened"] = opened
    ctx.notes += [f"shrine storm violation: {v}" for v in violations[:20]]
    print("  " + json.dumps(ctx.extra["shrine_storm"], ensure_ascii=False), flush=True)
