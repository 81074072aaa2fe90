"""The booking storm: concurrent clients through the gateway, then every answer checked against the database."""
import datetime as dt
import random
from collections import defaultdict

import eventlet
import pytest
from nameko.testing.services import entrypoint_hook
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bench import shrine as bench
from kit.db import new_id, utcnow
from services.shrine import domain
from services.shrine.models import attempts, bookings, shifts


@pytest.fixture
def publish(system, flows):
    return flows.event_publisher(system.config)


def database_view(system, shift_ids):
    """Shifts and the bookings that hold a place on them, straight from the shrine database."""
    db = system.database("shrine")
    with db.engine.connect() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(select(shifts).where(shifts.c.id.in_(shift_ids))).mappings()}
        held = [dict(r) for r in conn.execute(select(bookings).where(
            bookings.c.shift_id.in_(shift_ids), bookings.c.status.in_(domain.HOLDING))).mappings()]
    return rows, held


def one_shift(system, api, days, capacity):
    """A shift of two hours ``days`` from now, published by a shrine office: (its id, its start)."""
    office = bench.mint(system.config["JWT_SECRET"], "storm-office", role="shrine_office")
    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)
    [shift] = api.post("/shrine/shifts", {"shifts": [{
        "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        "post": "صحن آزادی", "capacity": capacity}]}, token=office).json["ids"]
    return shift, start


def check_against_database(system, done, outcomes=None):
    """The storm's checker: each client's answer compared with what the database holds."""
    rows, held = database_view(system, done["shift_ids"])
    problems = []
    by_shift, by_member, by_id = defaultdict(list), defaultdict(list), {}
    for b in held:
        by_shift[b["shift_id"]].append(b)
        by_member[b["member_id"]].append(b)
        by_id[b["id"]] = b
    for shift_id, shift in rows.items():
        n = len(by_shift[shift_id])
        if n > shift["capacity"] or n != shift["booked"]:
            problems.append(f"shift {shift_id}: {n} held, counter {shift['booked']}, capacity {shift['capacity']}")
    for member_id, mine in by_member.items():
        if len({b["shift_id"] for b in mine}) != len(mine):
            problems.append(f"member {member_id} holds a shift twice")
        for i, a in enumerate(mine):
            for b in mine[i + 1:]:
                if domain.overlaps(a["starts_at"], a["ends_at"], b["starts_at"], b["ends_at"]):
                    problems.append(f"member {member_id} holds overlapping {a['shift_id']} and {b['shift_id']}")
    accepted = set()
    for r in done["results"]:
        status, body = r["status"], r["body"]
        booking_id = body.get("id") if status == 201 else None
        if status == 202 and outcomes is not None:
            decided = outcomes[body["attempt"]]
            booking_id = decided.get("booking_id") if decided["status"] == "granted" else None
            status = 201 if booking_id else 409
            body = {"code": decided["outcome"]}
        if status == 201:
            b = by_id.get(booking_id)
            if b is None or b["member_id"] != r["member"] or b["shift_id"] != r["shift"]:
                problems.append(f"201 {booking_id} for {r['member']} on {r['shift']} is not in the database")
            accepted.add(booking_id)
        elif status == 409:
            shift = rows[r["shift"]]
            mine = by_member[r["member"]]
            justified = {
                "full": len(by_shift[r["shift"]]) == shift["capacity"],
                "overlap": any(b["shift_id"] != r["shift"] and domain.overlaps(
                    b["starts_at"], b["ends_at"], shift["starts_at"], shift["ends_at"]) for b in mine),
                "already_booked": any(b["shift_id"] == r["shift"] for b in mine),
            }.get(body.get("code"), False)
            if not justified:
                problems.append(f"409 {body.get('code')} for {r['member']} on {r['shift']} is not justified")
        else:
            problems.append(f"{r['member']} on {r['shift']}: unexpected {status} {body}")
    for booking_id, b in by_id.items():
        if booking_id not in accepted:
            problems.append(f"booking {booking_id} of {b['member_id']} was never answered 201")
    return problems


def test_the_storm_keeps_every_invariant(system, flows, publish):
    """40 members, 6 shifts of capacity 3, every member trying 3 shifts at once: 120 concurrent attempts."""
    members = flows.shrine_members(system.config, 40)
    done = bench.storm(system.url, system.config["JWT_SECRET"], publish, 40, 6, 3, 3, concurrency=120,
                       members=members, rng=random.Random(1))
    statuses = sorted({r["status"] for r in done["results"]})
    assert set(statuses) <= {201, 409}, statuses
    assert check_against_database(system, done) == []
    shifts_seen, roster = bench.collect(done["client"], done["office"], done["shift_ids"])
    assert bench.check(done["results"], shifts_seen, roster) == []
    # the storm fills every shift: 18 places, 120 attempts
    assert sum(1 for r in done["results"] if r["status"] == 201) == 18
    assert all(s["remaining"] == 0 for s in shifts_seen.values())


def test_retries_with_the_same_key_never_book_twice(system, flows, publish):
    members = flows.shrine_members(system.config, 20)
    done = bench.storm(system.url, system.config["JWT_SECRET"], publish, 20, 4, 2, 2, concurrency=80,
                       members=members, retries=2, rng=random.Random(2))
    assert check_against_database(system, done) == []
    answers = defaultdict(set)
    for r in done["results"]:
        answers[r["key"]].add((r["status"], r["body"].get("id"), r["body"].get("code")))
    assert all(len(a) == 1 for a in answers.values()), [a for a in answers.values() if len(a) > 1]


def test_one_request_sent_many_times_at_once_books_once_and_gets_one_answer(system, api, flows, publish):
    """The same Idempotency-Key racing itself: on PostgreSQL the attempts' key refuses all but one (the refusal comes
    back with the batch that carries the booking), and each of the others answers what the first one got."""
    [m] = flows.shrine_members(system.config, 1)
    shift, start = one_shift(system, api, days=41, capacity=5)
    headers = {"Idempotency-Key": "one-tap-" + shift}
    pool = eventlet.GreenPool(8)
    results = list(pool.imap(lambda _: api.post(f"/shrine/shifts/{shift}/bookings", token=m["token"],
                                                headers=headers), range(8)))
    assert [r.status for r in results] == [201] * 8
    assert len({r.json["id"] for r in results}) == 1
    _, held = database_view(system, [shift])
    assert len(held) == 1


def test_one_member_racing_for_overlapping_shifts_gets_one(system, api, flows, publish):
    [m] = flows.shrine_members(system.config, 1)
    office = bench.mint(system.config["JWT_SECRET"], "storm-office", role="shrine_office")
    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=40)
    body = {"shifts": [{"starts_at": (start + dt.timedelta(minutes=10 * i)).isoformat(),
                        "ends_at": (start + dt.timedelta(hours=2, minutes=10 * i)).isoformat(),
                        "post": "صحن آزادی", "capacity": 5} for i in range(5)]}
    ids = api.post("/shrine/shifts", body, token=office).json["ids"]
    pool = eventlet.GreenPool(10)
    results = list(pool.imap(lambda s: api.post(f"/shrine/shifts/{s}/bookings", token=m["token"]), ids * 2))
    assert sorted(r.status for r in results) == [201] + [409] * 9
    assert {r.json["code"] for r in results if r.status == 409} <= {"overlap", "already_booked"}
    _, held = database_view(system, ids)
    assert len(held) == 1


def test_fair_opening_storm_is_drawn_and_auditable(system, flows, publish):
    members = flows.shrine_members(system.config, 30)
    done = bench.storm(system.url, system.config["JWT_SECRET"], publish, 30, 3, 4, 2, concurrency=60,
                       members=members, fair=True, rng=random.Random(3))
    assert {r["status"] for r in done["results"]} <= {201, 202, 409}
    pending = [r for r in done["results"] if r["status"] == 202]
    assert pending and all(r["body"]["location"].endswith(r["body"]["attempt"]) for r in pending)
    # move the clock: the window closes now; the draw runs (or has already run, on its timer)
    db = system.database("shrine")
    with db.engine.begin() as conn:
        conn.execute(update(shifts).where(shifts.c.id.in_(done["shift_ids"]), shifts.c.drawn_at.is_(None))
                     .values(fair_until=utcnow()))
    with entrypoint_hook(system.container("shrine"), "run_draws") as run_draws:
        run_draws()
    outcomes = bench.attempt_outcomes(done["client"], done["results"])
    assert all(o["status"] != "pending" for o in outcomes.values())
    assert check_against_database(system, done, outcomes) == []
    shifts_seen, roster = bench.collect(done["client"], done["office"], done["shift_ids"])
    assert bench.check(done["results"], shifts_seen, roster, outcomes) == []
    token = members[0]["token"]
    for shift_id in done["shift_ids"]:
        status, draw = done["client"].call("GET", f"/shrine/shifts/{shift_id}/draw", token)
        assert status == 200 and draw["algorithm"] == domain.DRAW_ALGORITHM
        assert domain.verify_draw(draw["seed"], draw["entrants"], draw["ordering"])
        mine = {r["body"]["attempt"] for r in pending if r["shift"] == shift_id}
        assert set(draw["entrants"]) == mine
        # places went in the drawn order: once the shift was full, nobody later got one
        decided = [outcomes[a] for a in draw["ordering"]]
        assert [o["draw_position"] for o in decided] == list(range(1, len(decided) + 1))
        granted = [i for i, o in enumerate(decided) if o["status"] == "granted"]
        assert len(granted) == min(draw["granted"], shifts_seen[shift_id]["capacity"])
        if granted and len(granted) == shifts_seen[shift_id]["capacity"]:
            assert all(o["outcome"] == "full" for o in decided[granted[-1] + 1:])
        assert all(o["outcome"] in ("overlap", "already_booked") for o in decided[:granted[-1] + 1 if granted else 0]
                   if o["status"] != "granted")


def test_bench_run_reports_figures(system, flows, publish):
    figures = bench.run(system.url, system.config["JWT_SECRET"], publish, n_members=12, n_shifts=3, capacity=2,
                        attempts_per_member=2, concurrency=24, seed=4)
    assert figures["attempts"] == 24 and figures["accepted"] == 6 and figures["rejected"] == 18
    assert figures["violations"] == [] and figures["errors"] == 0
    assert figures["p99_ms"] >= figures["p50_ms"] > 0 and figures["accepted_per_s"] > 0


def test_the_database_itself_refuses_what_the_rules_forbid(system):
    """Bypassing the service: the constraints and the overlap rule hold on their own."""
    db = system.database("shrine")
    now = utcnow()
    start = now + dt.timedelta(days=50)
    a, b = new_id(), new_id()
    member = new_id()

    def shift(shift_id, starts, capacity=1):
        return dict(id=shift_id, province="9", post="p", starts_at=starts, ends_at=starts + dt.timedelta(hours=2),
                    capacity=capacity, booked=0, cancel_cutoff_hours=24, created_by="t", created_at=now)

    def booking(shift_id, starts, status="booked", who=member):
        return dict(id=new_id(), shift_id=shift_id, member_id=who, starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=2), status=status, source="direct", created_at=now)

    with db.engine.begin() as conn:
        conn.execute(insert(shifts), [shift(a, start), shift(b, start + dt.timedelta(hours=1), capacity=3)])
        conn.execute(insert(bookings).values(**booking(a, start)))
        conn.execute(update(shifts).where(shifts.c.id == a).values(booked=1))
    refusals = [
        update(shifts).where(shifts.c.id == a).values(booked=2),                              # over capacity
        insert(bookings).values(**booking(a, start)),                                          # twice the same shift
        insert(bookings).values(**booking(b, start + dt.timedelta(hours=1))),                  # overlapping
        insert(bookings).values(**booking(b, start + dt.timedelta(hours=1), status="offered")),
        insert(attempts).values(id=new_id(), member_id=member, shift_id=a, idempotency_key="k", status="bogus",
                                created_at=now),
    ]
    for statement in refusals:
        with pytest.raises(IntegrityError):
            with db.engine.begin() as conn:
                conn.execute(statement)
    with db.engine.begin() as conn:  # what is allowed: a cancelled one, back to back, someone else
        conn.execute(insert(bookings).values(**booking(b, start + dt.timedelta(hours=1), status="cancelled")))
        conn.execute(insert(bookings).values(**booking(b, start + dt.timedelta(hours=2))))
        conn.execute(insert(bookings).values(**booking(b, start + dt.timedelta(hours=1), who=new_id())))
    with pytest.raises(IntegrityError):  # reviving a cancelled booking into an overlap is refused too
        with db.engine.begin() as conn:
            conn.execute(update(bookings).where(bookings.c.member_id == member, bookings.c.status == "cancelled")
                         .values(status="booked"))


def test_one_refused_request_sent_many_times_at_once_gets_one_answer(system, api, flows, publish):
    """A full shift, the same Idempotency-Key racing itself: the refusal's attempt goes with the COMMIT, so all but
    one commit fail on the key, and each of those answers what the first one got (one attempt, one answer)."""
    members = flows.shrine_members(system.config, 2)
    shift, start = one_shift(system, api, days=42, capacity=1)
    assert api.post(f"/shrine/shifts/{shift}/bookings", token=members[0]["token"]).status == 201
    headers = {"Idempotency-Key": "one-tap-full-" + shift}
    pool = eventlet.GreenPool(8)
    results = list(pool.imap(lambda _: api.post(f"/shrine/shifts/{shift}/bookings", token=members[1]["token"],
                                                headers=headers), range(8)))
    assert [(r.status, r.json["code"]) for r in results] == [(409, "full")] * 8, results
    assert len({r.json["attempt"] for r in results}) == 1


@pytest.mark.parametrize("lost", ["the last place", "the member's time"])
def test_a_booking_that_loses_its_race_at_the_commit_is_a_justified_refusal(system, api, flows, publish, monkeypatch,
                                                                           lost):
    """Between the booking's read (a place left, the member free) and its COMMIT, a concurrent attempt takes the
    last place, or the member's time: on PostgreSQL the database refuses the booking at the COMMIT (CHECK
    booked <= capacity; the exclusion constraint), and the service runs another round that reads what happened and
    answers the refusal, kept like any other. Nothing is written for the lost booking and nothing goes over."""
    from services.shrine.service import ShrineService

    db = system.database("shrine")
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time: no other attempt commits between a booking's read and its end")
    [m] = flows.shrine_members(system.config, 1)
    shift, start = one_shift(system, api, days=43, capacity=2)
    rounds = []
    book_now = ShrineService._book_now

    def concurrent_attempt_first(self, member, shift_row, key, now):
        rounds.append(shift_row["id"])
        if len(rounds) == 1:  # the concurrent attempt commits while this one holds its read
            with db.engine.begin() as conn:
                if lost == "the last place":  # both places, by two others
                    conn.execute(insert(bookings), [dict(
                        id=new_id(), shift_id=shift, member_id=new_id(), starts_at=start,
                        ends_at=start + dt.timedelta(hours=2), status="booked", source="direct", created_at=now)
                        for _ in range(2)])
                    conn.execute(update(shifts).where(shifts.c.id == shift).values(booked=2))
                else:
                    other = new_id()
                    conn.execute(insert(shifts).values(
                        id=other, province="9", post="p", starts_at=start + dt.timedelta(hours=1),
                        ends_at=start + dt.timedelta(hours=3), capacity=5, booked=1, cancel_cutoff_hours=24,
                        created_by="t", created_at=now))
                    conn.execute(insert(bookings).values(
                        id=new_id(), shift_id=other, member_id=m["id"], starts_at=start + dt.timedelta(hours=1),
                        ends_at=start + dt.timedelta(hours=3), status="booked", source="direct", created_at=now))
        return book_now(self, member, shift_row, key, now)

    monkeypatch.setattr(ShrineService, "_book_now", concurrent_attempt_first)
    r = api.post(f"/shrine/shifts/{shift}/bookings", token=m["token"], headers={"Idempotency-Key": "race-" + shift})
    assert r.status == 409, r.json
    assert r.json["code"] == ("full" if lost == "the last place" else "overlap")
    rows, held = database_view(system, [shift])
    assert m["id"] not in {b["member_id"] for b in held}
    assert rows[shift]["booked"] == len(held) == (2 if lost == "the last place" else 0)
    with db.engine.connect() as conn:
        kept = conn.execute(select(attempts).where(attempts.c.member_id == m["id"],
                                                   attempts.c.shift_id == shift)).mappings().all()
    assert [(a["status"], a["outcome"]) for a in kept] == [("refused", r.json["code"])]
    again = api.post(f"/shrine/shifts/{shift}/bookings", token=m["token"], headers={"Idempotency-Key": "race-" + shift})
    assert (again.status, again.json["code"]) == (409, r.json["code"])  # the retry gets the kept answer


def test_the_shrine_runs_no_more_bookings_at_once_than_its_pool_size(system, api, flows, monkeypatch):
    """kit/container.py: a service with a database runs at most DB_POOL_SIZE workers, and asks the broker for no
    more messages ahead; the requests beyond wait at the broker, in order. The gateway keeps ``max_workers``."""
    from services.shrine.service import ShrineService

    pool_size = system.config["DB_POOL_SIZE"]
    assert system.container("shrine").max_workers == pool_size < system.config["max_workers"]
    assert system.container("gateway").max_workers == system.config["max_workers"]
    members = flows.shrine_members(system.config, 4 * pool_size)
    shift, _ = one_shift(system, api, days=44, capacity=len(members))
    running, most = [0], [0]
    book = ShrineService._book

    def counted(self, member_id, shift_id, key):
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            eventlet.sleep(0.2)  # long enough for the requests sent at once to fill every free worker
            return book(self, member_id, shift_id, key)
        finally:
            running[0] -= 1

    monkeypatch.setattr(ShrineService, "_book", counted)
    pool = eventlet.GreenPool(len(members))
    statuses = list(pool.imap(lambda m: api.post(f"/shrine/shifts/{shift}/bookings", token=m["token"]).status,
                              members))
    assert statuses == [201] * len(members)
    assert most[0] == pool_size  # as many at once as the bound, never more
