"""Scale-out, measured: two processes of the gateway and of the shrine beside one of each, in the same run.

RabbitMQ spreads RPC requests over every process consuming a service's queue, so a second shrine process
takes half the bookings without any configuration; a second gateway is another address behind the load
balancer (here: the clients are split over the two ports). All processes share this machine's two cores,
so the ratio says how much of the extra process's work the machine could still give it.
"""
import os
import sys

from bench import shrine

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
import launch  # noqa: E402


def booking_run(ctx, label, bases, n):
    client = shrine.Client(ctx.base, 64)
    office = shrine.mint(ctx.jwt_secret, "bench-office-scale", role="shrine_office")
    people = shrine.make_members(ctx.base, ctx.jwt_secret, ctx.publish_event, n, concurrency=64, client=client)
    shift_ids = shrine.publish_shifts(client, office, shrine.layout(50, n // 50 + 10))
    return ctx.run_on(bases, label, lambda cl, i: cl.call(
        "POST", f"/api/v1/shrine/shifts/{shift_ids[i % len(shift_ids)]}/bookings", token=people[i]["token"])[0],
        total=n, expect=(201,))


def scenarios(ctx):
    n = int(os.environ.get("BENCH_SCALE_MEMBERS", "1500"))
    one_null = ctx.null
    one_book = booking_run(ctx, "bookings, 1 gateway + 1 shrine", [ctx.base], n)
    host, port = ctx.base.rsplit(":", 1)
    env = dict(ctx.env, WEB_SERVER_ADDRESS=f"127.0.0.1:{int(port) + 1}")
    extra = launch.start(env, names=("gateway", "shrine"), log_dir=os.path.join("var", "bench", "log-2"),
                         metrics_base=9301)
    try:
        problem = launch.wait_ready(f"{host}:{int(port) + 1}", extra)
        if problem:
            raise RuntimeError(problem)
        bases = [ctx.base, f"{host}:{int(port) + 1}"]
        admin = ctx.admin
        two_null = ctx.run_on(bases, "null path, 2 gateways", lambda cl, i: cl.call("GET", "/api/v1/ping",
                                                                                     token=admin)[0])
        two_book = booking_run(ctx, "bookings, 2 gateways + 2 shrine", bases, n)
    finally:
        launch.stop(extra)
    ctx.extra["scale-out: null path 2 gateways / 1"] = round(two_null.rps / one_null.rps, 2)
    ctx.extra["scale-out: bookings 2+2 processes / 1+1"] = round(two_book.rps / one_book.rps, 2) \
        if one_book.rps else None
