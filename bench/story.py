"""A volunteer's service, the path of issue 3: reserve → accept → report → approve, four HTTP calls a round.

Set-up (not timed) uses the same HTTP flows as the tests: members with approved offers in one county, a
neighbourhood centre with a beneficiary, and the centre's supervisor. Then two timed phases, each with
concurrent clients: (1) the centre reserves and the member accepts; (2) once reporting has learnt of the
acceptances (an event), the member reports and the supervisor approves. Reported as HTTP calls per second,
beside the null path of the same run.
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
    rounds = int(os.environ.get("BENCH_STORY_ROUNDS", "600"))
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

    first = ctx.run("reserve + accept (2 calls a round)", reserve_and_accept, total=rounds)
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

    second = ctx.run("report + approve (2 calls a round)", report_and_approve, total=len(done))
    calls = 2 * first.ok + 2 * second.ok
    seconds = first.elapsed + second.elapsed
    per_call = calls / seconds if seconds else 0.0
    ctx.extra["story_http_calls_per_s (4 calls a round)"] = round(per_call, 1)
    if ctx.null is not None and ctx.null.rps:
        ctx.extra["story_ratio_to_null_per_http_call"] = round(per_call / ctx.null.rps, 2)
