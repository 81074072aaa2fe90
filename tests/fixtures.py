"""Shared fixtures: an isolated RabbitMQ vhost, real SQLite and PostgreSQL databases, and the whole system."""
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from kit.persian import make_national_id

AMQP_HOST = os.environ.get("TEST_AMQP_HOST", "127.0.0.1:5672")
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres")
SERVICE_NAMES = ("membership", "catalog", "reservation", "reporting", "shrine", "desk")
# TEST_SERVICES=membership,desk starts only those services (and the gateway): handy while one is being built
STARTED = tuple(s for s in os.environ.get("TEST_SERVICES", ",".join(SERVICE_NAMES)).split(",") if s)
ADMIN_NID = make_national_id(1)
ADMIN_PASSWORD = "admin-test-password"
BACKENDS = [b for b in os.environ.get("TEST_BACKENDS", "sqlite,postgres").split(",") if b]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def amqp_uri():
    """A vhost of our own, so parallel runs on one broker never consume each other's messages."""
    vhost = f"khademyar-test-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["rabbitmqctl", "add_vhost", vhost], capture_output=True).returncode == 0
    if made:
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                       capture_output=True, check=True)
        yield f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)
    else:
        yield f"amqp://guest:guest@{AMQP_HOST}/"


class Databases:
    """Fresh databases for one system under test; dropped afterwards."""

    def __init__(self, backend):
        self.backend = backend
        self.tag = uuid.uuid4().hex[:8]
        self.tmp = tempfile.mkdtemp(prefix="khademyar-test-")

    @property
    def url(self):
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp}/{{service}}.db"
        return PG_URL.rsplit("/", 1)[0] + f"/kt_{self.tag}_{{service}}"

    def drop(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.backend != "postgres":
            return
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                 {"p": f"kt_{self.tag}_%"}).scalars().all()
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def system_config(amqp_uri, database_url, port, **extra):
    config = {
        "AMQP_URI": amqp_uri,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        "DB_POOL_SIZE": 5,
        "JWT_SECRET": "test-secret-" + uuid.uuid4().hex,
        "JWT_TTL_SECONDS": 600,
        "KHADEMYAR_ADMIN_NATIONAL_ID": ADMIN_NID,
        "KHADEMYAR_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "OUTBOX_RELAY_INTERVAL": 0.2,
        "serializer": "json",
        "max_workers": 32,
    }
    config.update(extra)
    return config


def service_classes(names=SERVICE_NAMES):
    import importlib
    import inspect

    classes = []
    for name in names:
        module = importlib.import_module(f"services.{name}.service")
        classes += [c for _, c in inspect.getmembers(module, inspect.isclass)
                    if getattr(c, "name", None) == name and c.__module__ == module.__name__]
    from gateway.service import Gateway
    return classes + [Gateway]


class System:
    """Every service and the gateway in this process, on the real broker and a real database."""

    def __init__(self, amqp_uri, backend, **extra):
        from nameko.runners import ServiceRunner

        self.databases = Databases(backend)
        self.port = free_port()
        self.config = system_config(amqp_uri, self.databases.url, self.port, **extra)
        self.runner = ServiceRunner(self.config)
        for cls in service_classes(STARTED):
            self.runner.add_service(cls)
        self.runner.start()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = Api(self.url)

    def container(self, name):
        return next(c for c in self.runner.containers if c.service_name == name)

    def database(self, name):
        return next(d for d in self.container(name).dependencies if d.attr_name == "db")

    def stop(self):
        self.runner.stop()
        self.databases.drop()


@pytest.fixture(scope="session", params=BACKENDS)
def system(request, amqp_uri):
    sut = System(amqp_uri, request.param)
    sut.backend = request.param
    yield sut
    sut.stop()


class Response:
    def __init__(self, raw):
        self.raw = raw
        self.status = raw.status_code
        self.headers = raw.headers
        try:
            self.json = raw.json()
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.json}>"


class Api:
    """A small HTTP client for the gateway, as a web or mobile client would use it."""

    def __init__(self, base):
        self.base = base
        self.http = requests.Session()

    def call(self, method, path, json=None, token=None, headers=None, data=None, **kwargs):
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        url = path if path.startswith("http") else self.base + (path if path.startswith("/api") or path in (
            "/healthz", "/readyz", "/metrics") else "/api/v1" + path)
        return Response(self.http.request(method, url, json=json, data=data, headers=h, timeout=30, **kwargs))

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.call("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


_ids = itertools.count(1000 + int(uuid.uuid4().int % 10**6) * 100)


def next_national_id():
    return make_national_id(next(_ids))


def next_mobile():
    return "0912" + str(next(_ids) % 10**7).zfill(7)


class Flows:
    """The steps that many tests share, through HTTP only."""

    def __init__(self, api):
        self.api = api
        self._admin = None

    def login(self, national_id, password):
        r = self.api.post("/auth/login", {"national_id": national_id, "password": password})
        assert r.status == 200, r
        return r.json["access_token"]

    def admin(self):
        if self._admin is None:
            self._admin = self.login(ADMIN_NID, ADMIN_PASSWORD)
        return self._admin

    def staff(self, role, province="9", **scope):
        """A staff account, logged in with its first password already changed; returns (token, id)."""
        nid = next_national_id()
        body = {"national_id": nid, "first_name": "کارمند", "last_name": "آزمون", "mobile": next_mobile(),
                "role": role, "province": province, **scope}
        r = self.api.post("/staff", body, token=self.admin())
        assert r.status == 201, r
        token = self.login(nid, r.json["initial_password"])
        new = "new-pass-" + nid[::-1] + "x"
        assert self.api.post("/auth/password", {"current_password": r.json["initial_password"],
                                                "new_password": new}, token=token).status == 204
        return self.login(nid, new), r.json["id"]

    def application(self, province="9", county=None, **over):
        from kit import geo
        county = county or sorted(geo.counties_of(province))[0]
        body = {"national_id": next_national_id(), "first_name": "زهرا", "last_name": "رضایی",
                "father_name": "علی", "gender": "female", "birth_date": "1370/05/12", "mobile": next_mobile(),
                "education": "bachelor", "province": province, "county": county,
                "address": "مشهد، خیابان امام رضا، پلاک ۱۲"}
        body.update(over)
        return body

    def member(self, office_token, province="9", **over):
        """Apply, invite, attend, activate, first login and password change: a ready member.

        Returns a dict with id, national_id, password, token and the application body.
        """
        import datetime as dt
        body = self.application(province, **over)
        r = self.api.post("/applications", body)
        assert r.status == 201, r
        app_id = r.json["id"]
        starts = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).isoformat()
        o = self.api.post("/orientations", {"starts_at": starts, "place": "دفتر نمایندگی", "capacity": 500},
                          token=office_token)
        assert o.status == 201, o
        assert self.api.post(f"/applications/{app_id}/invite", {"orientation_id": o.json["id"]},
                             token=office_token).status == 200
        assert self.api.post(f"/orientations/{o.json['id']}/attendance", {"application_ids": [app_id]},
                             token=office_token).status == 200
        a = self.api.post(f"/applications/{app_id}/activate", token=office_token)
        assert a.status == 200, a
        token = self.login(body["national_id"], a.json["initial_password"])
        password = "member-pass-" + body["national_id"][::-1] + "x"
        assert self.api.post("/auth/password", {"current_password": a.json["initial_password"],
                                                "new_password": password}, token=token).status == 204
        return {"id": a.json["member_id"], "national_id": body["national_id"], "password": password,
                "token": self.login(body["national_id"], password), "application": body,
                "application_id": app_id}


@pytest.fixture(scope="session")
def flows_cache():
    return {}


@pytest.fixture
def api(system):
    return system.api


@pytest.fixture
def flows(system, flows_cache):
    if system.backend not in flows_cache:
        flows_cache[system.backend] = Flows(system.api)
    return flows_cache[system.backend]


@pytest.fixture
def office(flows):
    """A provincial office of Khorasan Razavi (province code 9) and one of Tehran (23)."""
    cache = getattr(flows, "_offices", None)
    if cache is None:
        cache = flows._offices = {"9": flows.staff("province_office", "9")[0],
                                  "23": flows.staff("province_office", "23")[0]}
    return cache
