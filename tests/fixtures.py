"""Shared fixtures: an isolated RabbitMQ vhost, real SQLite and PostgreSQL databases, and the whole system."""
import contextlib
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


@contextlib.contextmanager
def vhost_of_our_own(prefix="khademyar-test"):
    """(name, AMQP URI) of a fresh vhost, deleted afterwards; (None, the default vhost's URI) where rabbitmqctl
    cannot make one."""
    vhost = f"{prefix}-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["rabbitmqctl", "add_vhost", vhost], capture_output=True).returncode != 0:
        yield None, f"amqp://guest:guest@{AMQP_HOST}/"
        return
    subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   capture_output=True, check=True)
    try:
        yield vhost, f"amqp://guest:guest@{AMQP_HOST}/{vhost}"
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)


@pytest.fixture(scope="session")
def amqp_uri():
    """A vhost of our own, so parallel runs on one broker never consume each other's messages."""
    with vhost_of_our_own() as (_, uri):
        yield uri


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
        # the system is session-scoped and Flows keeps its tokens (admin, staff) for the whole run, which takes
        # more than ten minutes on a slow machine: tokens that expired mid-run made every later test a 401
        "JWT_TTL_SECONDS": 4 * 3600,
        "KHADEMYAR_ADMIN_NATIONAL_ID": ADMIN_NID,
        "KHADEMYAR_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "OUTBOX_RELAY_INTERVAL": 0.2,
        "TRUSTED_PROXIES": "127.0.0.1",  # so tests can speak for distinct clients with X-Forwarded-For
        "serializer": "json",
        "max_workers": 32,
        "SERVICE_CONTAINER_CLS": "kit.container.ServiceContainer",  # as config.yml: services run DB_POOL_SIZE
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
        new = "new-pass-" + uuid.uuid4().hex[:12]
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
        password = "member-pass-" + uuid.uuid4().hex[:12]
        assert self.api.post("/auth/password", {"current_password": a.json["initial_password"],
                                                "new_password": password}, token=token).status == 204
        return {"id": a.json["member_id"], "national_id": body["national_id"], "password": password,
                "token": self.login(body["national_id"], password), "application": body,
                "application_id": app_id}

    def event_publisher(self, config):
        """``publish_event(service, event_type, envelope)`` on the system's broker, as another service would."""
        from nameko.standalone.events import event_dispatcher
        dispatch = event_dispatcher(config)
        return lambda service, event_type, envelope: dispatch(service, event_type, envelope)

    def shrine_members(self, config, n, province="9", **kw):
        """``n`` synthetic members the shrine service knows from events (MemberActivated, and ReportApproved
        unless ``eligible=False``), with minted tokens: fast, no Argon2. Dicts with id, token, gender, …"""
        from bench.shrine import make_members
        return make_members(self.api.base, config["JWT_SECRET"], self.event_publisher(config), n, province=province,
                            **kw)


    # -- the volunteer's story (catalog, reservation, reporting). Events are asynchronous: the steps that need
    # another service's projection retry for a few seconds until it has arrived.
    def eventually(self, call, ok=(200, 201), timeout=20):
        """Repeat an HTTP call until its status is in ``ok`` (or time is up); the last response."""
        import time

        import eventlet
        deadline = time.time() + timeout
        while True:
            r = call()
            if r.status in ok or time.time() > deadline:
                return r
            eventlet.sleep(0.1)

    def cached_staff(self, role, province="9", **scope):
        """One staff token per role and scope, made once per system (``staff`` makes a new one each time)."""
        cache = self.__dict__.setdefault("_staff_cache", {})
        key = (role, province, tuple(sorted(scope.items())))
        if key not in cache:
            cache[key] = self.staff(role, province, **scope)[0]
        return cache[key]

    def field(self, kind="general", requires_documents=False):
        """A new field of service (عرصه) with one service; returns (field_id, service_id)."""
        tag = uuid.uuid4().hex[:8]
        f = self.api.post("/fields", {"name": f"عرصه آزمون {tag}", "kind": kind}, token=self.admin())
        assert f.status == 201, f
        s = self.api.post(f"/fields/{f.json['id']}/services", {
            "name": f"خدمت آزمون {tag}", "description": "شرح خدمت برای آزمون",
            "requires_documents": requires_documents}, token=self.admin())
        assert s.status == 201, s
        return f.json["id"], s.json["id"]

    def shared_field(self, kind="general"):
        """One field per kind for the whole system (so one thematic centre reviews every offer)."""
        cache = self.__dict__.setdefault("_fields", {})
        if kind not in cache:
            cache[kind] = self.field(kind)
        return cache[kind]

    def volunteer(self, office_token, province="9", field=None, **over):
        """A member who declared readiness (اعلام آمادگی): the member dict plus field, service and county."""
        member = self.member(office_token, province, **over)
        field_id, service_id = field or self.shared_field()
        county = member["application"]["county"]
        r = self.eventually(lambda: self.api.put("/me/readiness", {"province": province, "county": county,
                                                                   "field": field_id}, token=member["token"]))
        assert r.status == 200, r
        return dict(member, field=field_id, service=service_id, county=county)

    def approved_offer(self, office_token, province="9", **over):
        """A volunteer with one offer approved by the county thematic centre: adds offer and thematic (token)."""
        v = self.volunteer(office_token, province, **over)
        o = self.api.post("/me/offers", {"service": v["service"], "details": "هفته‌ای دو روز، عصرها",
                                         "phone": "09151234567", "availability": "شنبه و دوشنبه"}, token=v["token"])
        assert o.status == 201, o
        thematic = self.cached_staff("thematic_center", province, county=v["county"], field=v["field"])
        a = self.api.post(f"/offers/{o.json['id']}/approve", token=thematic)
        assert a.status == 200, a
        return dict(v, offer=o.json["id"], thematic=thematic)

    def accepted_reservation(self, office_token, province="9", center="کانون محله آزمون", **over):
        """An approved offer reserved by a neighbourhood centre and accepted by the member.

        Adds centre (token), center (name), beneficiary, reservation and starts_at (two seconds after reserving).
        """
        import datetime as dt
        v = self.approved_offer(office_token, province, **over)
        centre = self.cached_staff("neighborhood_center", province, county=v["county"], center=center)
        b = self.api.post("/beneficiaries", {"full_name": "مریم احمدی", "needs": "همراهی برای مراجعه به درمانگاه",
                                             "address": "مشهد، بلوار وکیل‌آباد، پلاک ۵", "phone": "05138001234"},
                          token=centre)
        assert b.status == 201, b
        window = {}

        def reserve():
            starts = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
            window["starts_at"] = starts
            return self.api.post("/reservations", {"offer": v["offer"], "beneficiary": b.json["id"],
                                                   "starts_at": starts.isoformat(),
                                                   "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
                                                   "place": "درمانگاه محله"}, token=centre)
        r = self.eventually(reserve)
        assert r.status == 201, r
        accepted = self.api.post(f"/reservations/{r.json['id']}/accept", token=v["token"])
        assert accepted.status == 200, accepted
        return dict(v, centre=centre, center=center, beneficiary=b.json["id"], reservation=r.json["id"],
                    starts_at=window["starts_at"])

    def submitted_report(self, office_token, province="9", hours=3, **over):
        """An accepted reservation whose member filed a report: adds report and supervisor (token)."""
        import datetime as dt

        import eventlet

        from kit.persian import TEHRAN
        v = self.accepted_reservation(office_token, province, **over)
        while dt.datetime.now(dt.timezone.utc) <= v["starts_at"]:
            eventlet.sleep(0.2)
        today = dt.datetime.now(TEHRAN).date().isoformat()
        r = self.eventually(lambda: self.api.post("/reports", {
            "reservation": v["reservation"], "performed_on": today, "hours": hours,
            "summary": "همراهی نیازمند تا درمانگاه و بازگشت"}, token=v["token"]))
        assert r.status == 201, r
        supervisor = self.cached_staff("supervisor", province, county=v["county"], center=v["center"])
        return dict(v, report=r.json["id"], supervisor=supervisor, performed_on=today)

    def approved_report(self, office_token, province="9", **over):
        """The whole volunteer story up to a report approved by the supervisor (ReportApproved is published)."""
        v = self.submitted_report(office_token, province, **over)
        a = self.api.post(f"/reports/{v['report']}/approve", token=v["supervisor"])
        assert a.status == 200, a
        return dict(v, first_for_member=a.json["first_for_member"])

    # -- for the web client's tests (tests/browser): people who log in through the login screen
    def staff_account(self, role, province="9", **scope):
        """A staff account whose first password is already changed: dict with id, national_id, password, token."""
        nid = next_national_id()
        body = {"national_id": nid, "first_name": "کارمند", "last_name": "آزمون", "mobile": next_mobile(),
                "role": role, "province": province, **scope}
        r = self.api.post("/staff", body, token=self.admin())
        assert r.status == 201, r
        password = "web-pass-" + uuid.uuid4().hex[:12]
        first = self.login(nid, r.json["initial_password"])
        assert self.api.post("/auth/password", {"current_password": r.json["initial_password"],
                                                "new_password": password}, token=first).status == 204
        return {"id": r.json["id"], "national_id": nid, "password": password, "token": self.login(nid, password)}

    # -- staying active (training, reviews)
    def future_reservation(self, v, days=3, hours=2, center="کانون محله آزمون"):
        """Reserve the approved offer of ``v`` (from ``approved_offer``) ``days`` ahead and have the member accept it:
        the reservation's id."""
        import datetime as dt
        centre = self.cached_staff("neighborhood_center", v["application"]["province"], county=v["county"],
                                   center=center)
        b = self.api.post("/beneficiaries", {"full_name": "رضا موسوی", "needs": "خرید هفتگی دارو",
                                             "address": "مشهد، خیابان کوهسنگی، پلاک ۹", "phone": "05138005678"},
                          token=centre)
        assert b.status == 201, b
        starts = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=days)
        r = self.eventually(lambda: self.api.post("/reservations", {
            "offer": v["offer"], "beneficiary": b.json["id"], "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(hours=hours)).isoformat(), "place": "منزل نیازمند"}, token=centre))
        assert r.status == 201, r
        accepted = self.api.post(f"/reservations/{r.json['id']}/accept", token=v["token"])
        assert accepted.status == 200, accepted
        return r.json["id"]

    def lesson(self, day, title=None):
        """The lesson of the Jalali week of ``day`` (a date), published by the admin unless one exists: its id."""
        from kit.persian import jalali_week_start
        week = jalali_week_start(day)
        r = self.api.post("/training/lessons", {"title": title or f"مطلب آموزشی هفته {week.isoformat()}",
                                                "body": "متن آموزشی این هفته برای خادمیاران.",
                                                "week": week.isoformat()}, token=self.admin())
        if r.status == 201:
            return r.json["id"]
        assert r.status == 409 and r.json["code"] == "lesson_exists", r
        cursor = None
        while True:
            page = self.api.get("/training/lessons?limit=200" + (f"&cursor={cursor}" if cursor else ""),
                                token=self.admin())
            assert page.status == 200, page
            for item in page.json["items"]:
                if item["week"] == week.isoformat():
                    return item["id"]
            cursor = page.json["next"]
            assert cursor, f"no lesson found for {week}"

    def reviews_of(self, token, member_id, **query):
        """The member's review cases as ``token`` (an office) lists them, oldest first."""
        from urllib.parse import urlencode
        r = self.api.get("/reviews?" + urlencode(dict(query, member=member_id, limit=200)), token=token)
        assert r.status == 200, r
        return r.json["items"]


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


# -- migrations on real databases: an empty database per test, on each backend
@pytest.fixture(params=BACKENDS)
def migration_db(request):
    """An engine on a fresh, empty database (a SQLite file, or a PostgreSQL database dropped afterwards)."""
    if request.param == "sqlite":
        folder = tempfile.mkdtemp(prefix="khademyar-mig-")
        engine = create_engine(f"sqlite:///{folder}/service.db")
        yield engine
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"kt_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine(PG_URL.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def migrate(engine, service, revision, downgrade=False):
    """Bring ``engine``'s database to ``revision`` of ``service``'s migrations (up, or down)."""
    from alembic import command

    from kit.migrate import alembic_config
    cfg = alembic_config(os.path.join("services", service, "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if downgrade else command.upgrade)(cfg, revision)
