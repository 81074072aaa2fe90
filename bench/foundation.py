"""The foundation's scenarios: the null path, applying, logging in, and raw Argon2id beside login."""
import os
import time

from eventlet import patcher

from bench import load
from kit.persian import make_national_id

real_threading = patcher.original("threading")


def null_path(ctx, before=None):
    """The admin's token, and the null path the scenarios are compared with: run first, and again before each
    area (``before``), so that each ratio is taken against the null path of the same minutes (on a shared
    machine the null path alone drifted by a third within one run)."""
    c = ctx.client()
    status, body = c.call("POST", "/api/v1/auth/login",
                          {"national_id": ctx.env["KHADEMYAR_ADMIN_NATIONAL_ID"],
                           "password": ctx.env["KHADEMYAR_ADMIN_PASSWORD"]})
    assert status == 200, (status, body)
    ctx.admin = body["access_token"]
    ctx.null = ctx.run("null path: GET /ping (auth, 1 RPC, no DB)" + (f", before {before}" if before else ""),
                       ctx.ping)


def scenarios(ctx):
    c = ctx.client()
    admin = ctx.admin

    seed = int(time.time()) % 10**6 * 1000

    def apply(cl, i):
        return cl.call("POST", "/api/v1/applications", {
            "national_id": make_national_id(seed + i), "first_name": "مریم", "last_name": "احمدی",
            "father_name": "حسن", "gender": "female", "birth_date": "1372/02/10", "mobile": "09151234567",
            "education": "bachelor", "province": "9", "county": "916", "address": "مشهد، بلوار وکیل‌آباد، پلاک ۳"})[0]

    # in slices between short runs of the null path, as every scenario nearest its line (the desk's, the story,
    # the bookings): measured once after the null path, a slower stretch read as dearer applications (0.45)
    ctx.run_interleaved("POST /applications", apply, int(os.environ.get("BENCH_APPLICATIONS", "2700")))

    # accounts to log in with (each creation hashes once; done before the clock starts)
    accounts = []
    for i in range(40):
        nid = make_national_id(seed + 900000 + i)
        s, b = c.call("POST", "/api/v1/staff", {"national_id": nid, "first_name": "کارشناس", "last_name": "میز",
                                                "mobile": "09150000000", "role": "desk_officer", "province": "9"},
                      token=admin)
        assert s == 201, (s, b)
        accounts.append((nid, b["initial_password"]))

    def log_in(cl, i):
        nid, password = accounts[i % len(accounts)]
        return cl.call("POST", "/api/v1/auth/login", {"national_id": nid, "password": password})[0]

    login, raw = login_beside_raw(ctx, log_in)
    ctx.extra["raw_argon2id_verifications_per_s (2 OS threads, same hasher)"] = round(raw, 1)
    ctx.extra["login_ratio_to_raw_argon2id"] = round(login.rps / raw, 2) if raw else None


def login_beside_raw(ctx, log_in, slices=3):
    """Logins in ``slices`` runs, each between two runs of raw Argon2id in the bench's own process: the two share
    the same minutes, as the null path and the scenarios do (``Context.run_interleaved``). Measured one after the
    other, a machine that slowed by a fifth in between read as a login a fifth dearer (0.73 of raw in one run of
    session 9, 0.91 in the runs around it). Each login run is long beside a login's latency (about 2 s at 16
    clients), so that its start and its end weigh little. Returns (login result merged, raw verifications/s)."""
    seconds = max(2.0, ctx.args.seconds / 2)
    raw = [0, 0.0]  # verifications, seconds

    def raw_run(k):
        count, elapsed = raw_argon2_count(seconds=min(seconds, 6) * 3 / 4)
        raw[0], raw[1] = raw[0] + count, raw[1] + elapsed

    login = ctx.run_between("POST /auth/login (Argon2id), between runs of raw Argon2id", slices,
                            lambda k: load.run("login", ctx.base, log_in, ctx.args.concurrency, duration=seconds),
                            raw_run)
    ctx.record(login)
    return login, raw[0] / raw[1] if raw[1] else 0.0


def raw_argon2_count(seconds=5.0, threads=2):
    """(verifications, seconds) of raw Argon2id on ``threads`` OS threads for about ``seconds``: the ceiling for
    login on this machine."""
    from services.membership.passwords import _hasher
    digest = _hasher.hash("benchmark-password")
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(k):
        while time.perf_counter() < stop:
            _hasher.verify(digest, "benchmark-password")
            counts[k] += 1

    started = time.perf_counter()
    workers = [real_threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts), time.perf_counter() - started
