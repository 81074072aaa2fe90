"""Start and stop the whole system as processes: one `nameko run` per service, and the gateway."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = ("membership", "catalog", "reservation", "reporting", "shrine", "desk")
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"


def reachable(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_broker(uri):
    """A broker must answer at ``uri``; start the local one if it is installed, or explain how to get one."""
    parts = urlsplit(uri)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    if reachable(host, port):
        return
    candidates = ["/usr/sbin/rabbitmq-server"] + [os.path.join(p, "rabbitmq-server")
                                                  for p in os.environ.get("PATH", "").split(os.pathsep)]
    server = next((c for c in candidates if os.path.exists(c)), None)
    if host not in ("127.0.0.1", "localhost") or server is None:
        sys.exit(f"No RabbitMQ answers at {host}:{port}.\n"
                 "Install one (Debian/Ubuntu: sudo apt-get install rabbitmq-server) and start it, or point AMQP_URI "
                 "at a running broker, e.g. AMQP_URI=amqp://guest:guest@broker:5672/ make run")
    print(f"RabbitMQ is not running; starting it with {server} -detached …", flush=True)
    subprocess.run([server, "-detached"], check=False)
    for _ in range(60):
        if reachable(host, port):
            return
        time.sleep(1)
    sys.exit("RabbitMQ did not come up within 60 s; see its logs (/var/log/rabbitmq/).")


def service_path(name):
    """The nameko service class of a part, by the project's naming convention."""
    return "gateway.service:Gateway" if name == "gateway" else f"services.{name}.service:{name.capitalize()}Service"


def start(env, names=SERVICES + ("gateway",), log_dir=None, metrics_base=9101, replicas=None):
    """Start the named parts; ``replicas`` maps a name to a process count (default 1)."""
    log_dir = log_dir or os.path.join(ROOT, "var", "log")
    os.makedirs(log_dir, exist_ok=True)
    env = dict(env, PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    nameko = os.path.join(os.path.dirname(sys.executable), "nameko")
    procs = []
    port = metrics_base
    for name in names:
        module = service_path(name)
        for i in range((replicas or {}).get(name, 1)):
            penv = dict(env, KHADEMYAR_SERVICE=name)
            if name == "gateway":
                penv["METRICS_PORT"] = "0"
                if i:  # a second gateway listens on the next port
                    host, _, p = env["WEB_SERVER_ADDRESS"].rpartition(":")
                    penv["WEB_SERVER_ADDRESS"] = f"{host}:{int(p) + i}"
            else:
                penv["METRICS_PORT"] = str(port)
                port += 1
            label = name if not i else f"{name}-{i + 1}"
            log = open(os.path.join(log_dir, f"{label}.log"), "ab")
            procs.append((label, subprocess.Popen([nameko, "run", "--config", "config.yml", module], cwd=ROOT,
                                                  env=penv, stdout=log, stderr=subprocess.STDOUT)))
    return procs


def wait_ready(base, procs, seconds=120):
    for _ in range(seconds):
        dead = [(n, p.returncode) for n, p in procs if p.poll() is not None]
        if dead:
            return f"{dead[0][0]} exited with code {dead[0][1]}; see var/log/{dead[0][0]}.log"
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as r:
                if r.status == 200:
                    return None
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    return f"not ready after {seconds} s; see var/log/*.log"


def stop(procs):
    for _, p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for _, p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
