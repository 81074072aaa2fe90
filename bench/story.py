"""A volunteer's service, the path of issue 3: reserve → accept → report → approve, four HTTP calls a round.

Set-up (not timed) uses the same HTTP flows as the tests: members with approved offers in one county, a
neighbourhood centre with a beneficiary, and the centre's supervisor. Then two timed phases, each with
concurrent clients: (1) the centre reserves and the member accepts; (2) once reporting has learnt of the
acceptances (an event), the member reports and the supervisor approves. Each phase runs in three slices between
short runs of the null path (``Context.run_interleaved``); reported as HTTP calls per second, beside the null path
of those same seconds.
"""
import datetime as dt
import time

from tests.fixtures import Api, Flows


def scenarios(ctx):
    import os

    flows = Flows(Api(ctx.base))
    flows._admin = ctx.admin
    office = flows.staff("province_office", "9")[0]
    n_offers = int(os.environ.get("BENCH_STORY_OFFERS", "16"))
    offers = [flows.approved_offer(office) for _ in range(n_offers)]
    county = offers[0]["county"]
    centre = flows.cached_staff("neighborhood_center", "9", county=county, center="کانون محله سنجش")
    supervisor = flows.cached_staff("supervisor", "9", county=county, center="کانون محله سنجش")
    beneficiary = flows.api.post("/beneficiaries", {"full_name": "مریم احمدی", "needs": "همراهی تا درمانگاه",
                                                    "address": "مشهد، بلوار وکیل‌آباد", "phone": "05138001234"},
                                 token=centre).json["id"]
    time.sleep(3)  # the reservation service learns approved offers from events
    rounds = int(os.environ.get("BENCH_STORY_ROUNDS", "1200"))
    # every reservation starts in the next minutes (today in Tehran, so a report may be filed at once),
    # each offer's windows one after another so none overlaps
    t0 = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=2)
    made = [None] * rounds

    def reserve_and_accept(cl, i):
        offer = offers[i % n_offers]
        starts = t0 + dt.timedelta(minutes=3 * (i // n_offers))
        status, body = cl.call("POST", "/api/v1/reservations", {
            "offer": offer["offer"], "beneficiary": beneficiary, "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(minutes=2)).isoformat(), "place": "درمانگاه محله"}, token=centre)
        if status != 201:
            return status
        status, _ = cl.call("POST", f"/api/v1/reservations/{body['id']}/accept", token=offer["token"])
        if status == 200:
            made[i] = (offer, body["id"])
        return status

    first, null_first = ctx.run_interleaved("reserve + accept (2 calls a round)", reserve_and_accept, rounds)
    time.sleep(2)  # reporting learns of the last acceptances (outbox relay, then the bus)
    today = dt.datetime.now(dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=3, minutes=30))).date()
    done = [m for m in made if m]

    def report_and_approve(cl, i):
        offer, reservation = done[i]
        status, body = cl.call("POST", "/api/v1/reports", {"reservation": reservation, "performed_on":
                                                           today.isoformat(), "hours": 2,
                                                           "summary": "همراهی نیازمند تا درمانگاه"},
                               token=offer["token"])
        if status != 201:
            return status
        return cl.call("POST", f"/api/v1/reports/{body['id']}/approve", token=supervisor)[0]

    second, null_second = ctx.run_interleaved("report + approve (2 calls a round)", report_and_approve, len(done))
    calls = 2 * first.ok + 2 * second.ok
    seconds = first.elapsed + second.elapsed
    per_call = calls / seconds if seconds else 0.0
    null_elapsed = null_first.elapsed + null_second.elapsed
    null_rps = (null_first.ok + null_second.ok) / null_elapsed if null_elapsed else 0.0
    ctx.extra["story_http_calls_per_s (4 calls a round)"] = round(per_call, 1)
    ctx.extra["story_null_path_rps (interleaved)"] = round(null_rps, 1)
    if null_rps:
        ctx.extra["story_ratio_to_null_per_http_call"] = round(per_call / null_rps, 2)
    # the same from CPU: what a call costs the whole system against a ping, summed over every process
    cpu_call = (first.cpu_total * first.ok + second.cpu_total * second.ok) / calls if calls else 0.0
    cpu_null = ((null_first.cpu_total * null_first.ok + null_second.cpu_total * null_second.ok)
                / (null_first.ok + null_second.ok)) if null_first.ok + null_second.ok else 0.0
    if cpu_call:
        ctx.extra["story_cpu_ratio_to_null_per_http_call"] = round(cpu_null / cpu_call, 2)
