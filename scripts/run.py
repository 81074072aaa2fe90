"""`make run`: check the broker, start every service and the gateway as processes, print where to go.

Each service runs as its own `nameko run` process (as in production), on the database named by
DATABASE_URL (default: SQLite files under ./var/), with Prometheus metrics on its own port.
Ctrl-C stops them all.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import launch  # noqa: E402


def main():
    env = dict(os.environ)
    env.setdefault("AMQP_URI", launch.DEFAULT_AMQP)
    env.setdefault("WEB_SERVER_ADDRESS", "127.0.0.1:8000")
    env.setdefault("DATABASE_URL", "sqlite:///" + os.path.join(launch.ROOT, "var", "{service}.db"))
    launch.ensure_broker(env["AMQP_URI"])
    metrics_base = int(env.get("METRICS_BASE_PORT", "9101"))
    procs = launch.start(env, metrics_base=metrics_base)

    def stop(*_):
        launch.stop(procs)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    base = "http://" + env["WEB_SERVER_ADDRESS"].replace("0.0.0.0", "127.0.0.1")
    where = env["DATABASE_URL"].split("@")[-1]
    print(f"Starting {', '.join(n for n, _ in procs)} on {where} (logs in var/log/) …", flush=True)
    problem = launch.wait_ready(base, procs)
    if problem:
        print(problem, flush=True)
        stop()
    last = metrics_base + len(launch.SERVICES) - 1
    print(f"""
Khademyar is running.
  API:         {base}/api/v1/        e.g. {base}/api/v1/provinces
  OpenAPI:     {base}/api/openapi.json
  AsyncAPI:    {base}/api/asyncapi.json
  Health:      {base}/healthz   {base}/readyz
  Metrics:     {base}/metrics (gateway); http://127.0.0.1:{metrics_base}-{last}/metrics (services)
  First admin: national ID {env.get('KHADEMYAR_ADMIN_NATIONAL_ID', '0000000019')}, password from \
KHADEMYAR_ADMIN_PASSWORD (dev default: admin-dev-password)
Press Ctrl-C to stop.""", flush=True)
    while True:
        for name, p in procs:
            if p.poll() is not None:
                print(f"{name} stopped (code {p.returncode}); see var/log/{name}.log. Stopping the rest.", flush=True)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
