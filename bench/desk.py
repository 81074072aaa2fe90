"""The desk's scenarios: a desk officer opening tickets, and visitors tracking theirs by code and mobile.

Each runs in slices between short runs of the null path (``Context.run_interleaved``), as the story and the
accepted bookings do: a null path measured once before the area may fall on a faster or a slower stretch of the
machine than the scenario after it (session 9: the null path before the desk ran at 1.08 of the run's first, and
the tickets read 0.47 of it). Sizes: ``BENCH_TICKETS``, ``BENCH_TRACKS``."""
import itertools
import os

from kit.persian import make_national_id


def login(c, nid, password):
    status, body = c.call("POST", "/api/v1/auth/login", {"national_id": nid, "password": password})
    assert status == 200, (status, body)
    return body["access_token"]


def scenarios(ctx):
    c = ctx.client()
    admin = ctx.admin
    nid = make_national_id(777000111)
    s, b = c.call("POST", "/api/v1/staff", {"national_id": nid, "first_name": "کارشناس", "last_name": "میز خدمت",
                                            "mobile": "09151112233", "role": "desk_officer", "province": "9"},
                  token=admin)
    assert s == 201, (s, b)
    first = login(c, nid, b["initial_password"])
    assert c.call("POST", "/api/v1/auth/password", {"current_password": b["initial_password"],
                                                    "new_password": "desk-bench-password"}, token=first)[0] == 204
    officer = login(c, nid, "desk-bench-password")
    s, proc = c.call("POST", "/api/v1/desk/procedures", {
        "title": "صدور کارت زائر", "unit": "امور زائرین", "conditions": "ارائه مدارک شناسایی",
        "required_documents": ["کارت ملی"], "steps": ["پذیرش", "بررسی", "صدور"], "standard_days": 3,
        "province": "9"}, token=admin)
    assert s == 201, (s, proc)
    counter = itertools.count()
    codes = []

    def create(cl, i):
        status, body = cl.call("POST", "/api/v1/desk/tickets", {
            "procedure": proc["id"],
            "visitor": {"full_name": "حسین کریمی", "national_id": make_national_id(500000000 + next(counter)),
                        "mobile": "09150000000"},
            "documents_received": ["کارت ملی"], "description": "درخواست کارت"}, token=officer)
        if status == 201:
            codes.append(body["tracking_code"])
        return status

    ctx.run_interleaved("POST /desk/tickets", create, int(os.environ.get("BENCH_TICKETS", "2400")))

    def track(cl, i):
        return cl.call("GET", f"/api/v1/desk/tickets/{codes[i % len(codes)]}?mobile=09150000000")[0]

    ctx.run_interleaved("GET /desk/tickets/{code}?mobile= (public)", track,
                        int(os.environ.get("BENCH_TRACKS", "3200")))
