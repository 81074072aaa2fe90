"""The system as processes, and the faults we inflict on it.

``ProcessSystem`` starts every service and the gateway as its own ``nameko run`` process (``scripts/launch.py``, as
``make run`` and ``make bench`` do) on fresh PostgreSQL databases ``kf_<tag>_<service>`` and a fresh RabbitMQ vhost
``khademyar-fault-<tag>``, and offers the faults:

- ``close_broker_connections()``: RabbitMQ closes every connection of the system's vhost
  (``rabbitmqctl close_all_connections --vhost``); reconnecting is possible at once.
- ``cut_broker(seconds)``: the broker is unreachable for this system only, as in an outage: the system reaches
  RabbitMQ through ``BrokerLink``, a TCP relay in this test process, which resets every connection and refuses
  new ones (ECONNREFUSED) for ``seconds``.
- ``kill_database_connections()``: every backend of this system's databases is terminated (pg_terminate_backend),
  which is what the services see when the server restarts: their pooled connections die.
- ``database_unreachable(services, seconds)``: those services' databases refuse connections for ``seconds``
  (``ALLOW_CONNECTIONS false``), as a database server that is down.
- ``kill(name)`` / ``restart(name)``: SIGKILL one process, start it again with the same environment.
- ``restart_postgres()`` / ``restart_broker_app()``: the real thing, for the one disruptive test; the server and
  the application are always started again (``finally``).

Other engineers' test runs share the broker and the database server, so everything here is scoped to this
system's vhost and databases, except the two ``restart_*`` functions, which are kept to a few seconds.
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from scripts import launch
from tests.fixtures import ADMIN_NID, ADMIN_PASSWORD, PG_URL

SERVICES = launch.SERVICES
RABBITMQCTL = os.environ.get("RABBITMQCTL", "rabbitmqctl")
PG_VERSION = os.environ.get("FAULT_PG_VERSION", "15")


def _ephemeral_start():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_range(n=1):
    """``n`` consecutive free ports below the ephemeral range.

    The system's ports are bound again after a fault (a restarted gateway, a restarted service's metrics, the
    broker link after a cut); a port of the ephemeral range could meanwhile be taken by any outgoing connection
    of the machine (``Address already in use``), so they are chosen below it.
    """
    low, high = 15000, _ephemeral_start() - n
    for _ in range(500):
        base = low + int(uuid.uuid4().int % (high - low))
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


def free_port():
    return free_port_range(1)


class BrokerLink:
    """A TCP relay between the system and RabbitMQ, in this (eventlet) test process.

    The system's ``AMQP_URI`` names the relay's port, so the relay can make the broker unreachable for this system
    alone, exactly as an outage looks from the services: ``cut(seconds)`` resets every open connection and closes
    the listening socket (new connections are refused: ECONNREFUSED) for ``seconds``, then listens again on the
    same port.  Other runs on the shared broker see nothing.
    """

    def __init__(self, upstream=("127.0.0.1", 5672)):
        import eventlet
        self.eventlet = eventlet
        self.upstream = upstream
        self.port = free_port()
        self.pairs = set()
        self.silenced = set()  # pairs cut off by a partition: what they receive is dropped, and nothing says so
        self.accepting = True
        self.listener = None
        self._server = None
        self.listen()

    def listen(self):
        self.listener = self.eventlet.listen(("127.0.0.1", self.port), backlog=128)
        self._server = self.eventlet.spawn(self._accept, self.listener)

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the outage has begun
            while not self.accepting:  # a partition: the connection is made, and nothing answers on it until then
                self.eventlet.sleep(0.05)
            self.eventlet.spawn(self._relay, client)

    def _relay(self, client):
        try:
            upstream = self.eventlet.connect(self.upstream)
        except OSError:
            client.close()
            return
        pair = (client, upstream)
        self.pairs.add(pair)
        self.eventlet.spawn(self._pump, upstream, client, pair)
        self._pump(client, upstream, pair)

    def _pump(self, source, target, pair):
        """Copy one direction. Only this thread reads ``source``, so only it closes ``source`` (closing a socket
        another green thread waits on would let its descriptor be reused under that thread)."""
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if pair in self.silenced:
                    continue  # partitioned: the bytes are lost on the way, and no reset tells either side
                target.sendall(data)
        except (OSError, EOFError):
            pass
        finally:
            # a partitioned side learns nothing, not even an end (link.close shuts such pairs at the very end)
            if pair not in self.silenced:
                self.pairs.discard(pair)
                _shutdown(*pair)  # wakes the other direction's reader with end-of-file
                try:
                    source.close()
                except OSError:
                    pass

    def cut(self, seconds):
        """Broker unreachable for ``seconds``: open connections reset, new ones refused; then reachable again."""
        listener, self.listener = self.listener, None
        try:
            if self._server is not None:
                self._server.kill()
            listener.close()
            for pair in list(self.pairs):
                _shutdown(*pair)
            time.sleep(seconds)
        finally:
            self.listen()

    def partition(self, seconds):
        """A network partition for ``seconds``: every open connection goes silent for good (what either side sends
        is dropped; no FIN, no reset: only a timeout or a missed heartbeat can tell), and a new connection is
        accepted but hears nothing until the partition ends; then new connections work again."""
        self.accepting = False
        self.silenced.update(self.pairs)
        try:
            time.sleep(seconds)
        finally:
            self.accepting = True

    def close(self):
        if self._server is not None:
            self._server.kill()
        if self.listener is not None:
            self.listener.close()
        for pair in list(self.pairs) + list(self.silenced):
            _shutdown(*pair)


def _shutdown(*socks):
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def rabbitmqctl(*args, check=True):
    return subprocess.run([RABBITMQCTL, "-q", *args], capture_output=True, text=True, check=check, timeout=60)


class ProcessSystem:
    def __init__(self):
        self.tag = uuid.uuid4().hex[:8]
        self.vhost = f"khademyar-fault-{self.tag}"
        self.port = free_port()
        self.metrics_base = free_port_range(len(SERVICES))
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_dir = os.path.join(launch.ROOT, "var", "faults", self.tag)
        self.jwt_secret = "fault-" + uuid.uuid4().hex
        self.link = BrokerLink()
        self.env = dict(os.environ, AMQP_URI=f"amqp://guest:guest@127.0.0.1:{self.link.port}/{self.vhost}",
                        WEB_SERVER_ADDRESS=f"127.0.0.1:{self.port}",
                        DATABASE_URL=PG_URL.rsplit("/", 1)[0] + f"/kf_{self.tag}_{{service}}",
                        JWT_SECRET=self.jwt_secret, LOG_LEVEL="WARNING", MAX_WORKERS="32", DB_POOL_SIZE="5",
                        KHADEMYAR_ADMIN_NATIONAL_ID=ADMIN_NID, KHADEMYAR_ADMIN_PASSWORD=ADMIN_PASSWORD,
                        TRUSTED_PROXIES="127.0.0.1")
        self.procs = {}
        self._engines = {}
        self._stopped = False

    # -- life
    def start(self, timeout=120):
        prune_logs(os.path.dirname(self.log_dir))
        atexit.register(self.stop)  # also when pytest itself ends abnormally: no process, vhost or database left
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        for name, proc in launch.start(self.env, log_dir=self.log_dir, metrics_base=self.metrics_base):
            self.procs[name] = proc
        problem = launch.wait_ready(self.base, list(self.procs.items()), seconds=timeout)
        if problem:
            raise RuntimeError(f"the process system did not start: {problem} (logs: {self.log_dir})")

    def stop(self):
        if self._stopped:
            return
        self._stopped = True
        for proc in self.procs.values():  # as launch.stop, with a shorter grace: this system's data is thrown away
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.link.close()
        for engine in self._engines.values():
            engine.dispose()
        rabbitmqctl("delete_vhost", self.vhost, check=False)
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": f"kf_{self.tag}_%"}).scalars().all()
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()

    def kill(self, name):
        """SIGKILL: no shutdown, no acks, no flush; whatever was in flight is cut."""
        proc = self.procs[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def restart(self, name):
        """Start one part again with the same environment (and the same metrics port)."""
        port = self.metrics_base + SERVICES.index(name) if name in SERVICES else self.metrics_base
        [(label, proc)] = launch.start(self.env, names=(name,), log_dir=self.log_dir, metrics_base=port)
        self.procs[label] = proc

    def dead_processes(self):
        return {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}

    # -- readiness
    def readyz(self):
        try:
            r = requests.get(self.base + "/readyz", timeout=10)
            return r.status_code, r.text
        except requests.RequestException as exc:
            return None, repr(exc)

    def wait_ready(self, timeout=45):
        """Seconds until /readyz answered 200 by itself; fails with the last answer after ``timeout``, or at once
        when a process has exited (nothing here would start it again: that is not recovering by itself)."""
        started = time.monotonic()
        last = None
        while time.monotonic() - started < timeout:
            dead = self.dead_processes()
            if dead:
                raise AssertionError(f"processes exited: {dead}; the end of their logs:\n" + "\n".join(
                    f"--- {name}\n{self.log_tail(name, 3)}" for name in dead))
            status, body = self.readyz()
            if status == 200:
                return time.monotonic() - started
            last = (status, body)
            time.sleep(0.5)
        # CI keeps no files: what each process last said goes into the failure itself
        raise AssertionError(f"/readyz not 200 within {timeout} s; last answer {last}; logs in {self.log_dir}; "
                             "their last warnings:\n" + "\n".join(
                                 f"--- {name}\n{self.last_warnings(name)}" for name in self.procs))

    def revive(self):
        """Start again whatever exited (what a supervisor would do), so the next test starts with the whole system.
        A second try if a process exits again at once."""
        revived = set()
        for attempt in (1, 2):
            dead = self.dead_processes()
            if not dead:
                break
            for name in dead:
                self.restart(name)
            revived |= set(dead)
            try:
                self.wait_ready(60)
                break
            except AssertionError:
                if attempt == 2:
                    raise
        return revived

    # -- the databases, read directly
    def engine(self, service):
        if service not in self._engines:
            from kit.db import green_psycopg
            green_psycopg()
            url = PG_URL.rsplit("/", 1)[0] + f"/kf_{self.tag}_{service}"
            # pre-ping: the fault tests terminate these connections too
            self._engines[service] = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)
        return self._engines[service]

    def query(self, service, sql, **params):
        for attempt in (1, 2):
            try:
                with self.engine(service).connect() as conn:
                    return conn.execute(text(sql), params).mappings().all()
            except Exception:
                if attempt == 2:
                    raise
                self.engine(service).dispose()
                time.sleep(0.5)

    # -- faults
    def cut_broker(self, seconds):
        """The broker is unreachable for this system for ``seconds`` (connections reset, reconnects refused)."""
        self.link.cut(seconds)

    def partition_broker(self, seconds):
        """A network partition between this system and the broker (``BrokerLink.partition``)."""
        self.link.partition(seconds)

    def close_broker_connections(self):
        """The broker closes every connection of this system's vhost (as on a broker node restart or a network
        blip); reconnecting is possible at once."""
        return rabbitmqctl("close_all_connections", "--vhost", self.vhost, "--limit", "1000",
                           "fault test: connections closed").stdout

    def broker_connections(self):
        out = rabbitmqctl("list_connections", "vhost", "pid").stdout
        return [line.split("\t")[1] for line in out.splitlines() if line.startswith(self.vhost + "\t")]

    def kill_database_connections(self):
        """Terminate every backend of this system's databases: the services' pooled connections are dead."""
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return conn.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname LIKE :p AND pid <> pg_backend_pid()"), {"p": f"kf_{self.tag}_%"}).scalar()
        finally:
            engine.dispose()

    def database_unreachable(self, services, seconds):
        """The databases of ``services`` refuse every connection for ``seconds`` (ALLOW_CONNECTIONS false, open
        backends terminated), as a database server that is down; the others stay up."""
        names = [f"kf_{self.tag}_{s}" for s in services]
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                for name in names:
                    conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY(:n)"),
                             {"n": names})
                time.sleep(seconds)
        finally:
            with engine.connect() as conn:
                for name in names:
                    conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            engine.dispose()

    def dead_letters(self):
        return {q: n for q, n in self.queue_depths().items() if q.endswith(".dead") and n}

    def replay_dead_letters(self):
        """The documented manual step (docs/operations.md, DeadLetteredMessages): move every message of each
        ``<queue>.dead`` back to ``<queue>``, headers kept. Answers how many were moved."""
        from kombu import Connection
        moved = 0
        with Connection(f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}") as conn:
            for queue in self.dead_letters():
                simple = conn.SimpleQueue(queue)
                producer = conn.Producer()
                while True:
                    try:
                        message = simple.get(block=False)
                    except simple.Empty:
                        break
                    producer.publish(message.body, exchange="", routing_key=queue[:-len(".dead")],
                                     headers=message.headers, content_type=message.content_type,
                                     content_encoding=message.content_encoding, delivery_mode=2)
                    message.ack()
                    moved += 1
                simple.close()
        return moved

    def queue_depths(self):
        """``{queue: messages}`` of this system's vhost."""
        out = rabbitmqctl("list_queues", "-p", self.vhost, "name", "messages").stdout
        depths = {}
        for line in out.splitlines():
            name, _, count = line.rpartition("\t")
            if name and count.isdigit():
                depths[name] = int(count)
        return depths

    def last_warnings(self, name, count=4, width=400):
        """The last ``count`` log entries of ``name`` at warning level or above, each cut to ``width``."""
        try:
            with open(os.path.join(self.log_dir, f"{name}.log"), errors="replace") as f:
                found = [line for line in f if '"level": "warning"' in line or '"level": "error"' in line
                         or '"level": "critical"' in line]
        except OSError:
            return ""
        return "".join(line[:width].rstrip() + "\n" for line in found[-count:])

    def log_tail(self, name, lines=40, width=3000):
        try:
            with open(os.path.join(self.log_dir, f"{name}.log"), errors="replace") as f:
                return "".join(line[-width:] for line in f.readlines()[-lines:])
        except OSError:
            return ""


def prune_logs(folder, keep=5):
    """Keep the logs of the last few runs only (var/faults/<tag>/)."""
    try:
        runs = sorted((os.path.join(folder, d) for d in os.listdir(folder)), key=os.path.getmtime)
    except OSError:
        return
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def restart_postgres():
    """Restart the PostgreSQL server (every database of every user: seconds only)."""
    try:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "restart", "-m", "fast"],
                       check=True, capture_output=True, timeout=60)
    finally:
        ensure_postgres()


def ensure_postgres():
    for _ in range(60):
        if launch.reachable("127.0.0.1", 5432):
            return
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "start"],
                       capture_output=True, timeout=60)
        time.sleep(1)


def restart_broker_app(seconds=2):
    """stop_app / start_app of the RabbitMQ node: every connection of every vhost drops; always started again."""
    try:
        rabbitmqctl("stop_app")
        time.sleep(seconds)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup", check=False)
