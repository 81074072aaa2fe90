"""A flow driven through HTTP while a fault happens, and the checks of what it left behind.

Four kinds of request run side by side in green threads, each recording every answer it got:

- ``apply``: public ``POST /applications`` (membership; the national ID is unique, so a request is its own key);
- ``ticket``: a desk officer's ``POST /desk/tickets`` (desk; nothing makes a ticket unique, so each request carries
  a marker in its description: two rows with one marker would be one request executed twice);
- ``activate``: the office activates prepared applicants (membership → ``MemberActivated`` → catalog and shrine);
- ``approve``: a supervisor approves prepared reports (reporting → ``ReportApproved`` → shrine eligibility).

``verify()`` then holds the system to its promises: every success answer is in the database, every outbox row was
published and reached each of its consumers' inboxes once in effect (catalog's projection one row per activated
member, shrine counts exactly one approved report for each member whose first report was approved), nothing was
dead-lettered. Tickets made twice by one request are collected in ``duplicates`` (finding 1 of docs/resilience.md)
for the test to judge.
"""
import datetime as dt
import importlib
import inspect
import itertools
import time
import uuid

import eventlet
import requests

from kit import geo
from kit.persian import make_national_id
from tests.fixtures import next_mobile

COUNTY = sorted(geo.counties_of("9"))[0]
SERVICES = ("membership", "catalog", "reservation", "reporting", "shrine", "desk")


def consumers():
    """``{(source, event_type): [(service, consumer name)]}`` from the services' ``@on_event`` handlers."""
    found = {}
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.service")
        classes = [c for _, c in inspect.getmembers(module, inspect.isclass) if getattr(c, "name", None) == service]
        for cls in classes:
            for name, member in inspect.getmembers(cls, inspect.isfunction):
                consumes = getattr(member, "consumes", None)
                if consumes:
                    found.setdefault(tuple(consumes), []).append((service, f"{consumes[0]}.{consumes[1]}.{name}"))
    return found


_nid = itertools.count(7_000_000 + int(uuid.uuid4().int % 10**6) * 10)


class Client:
    """One HTTP client per green thread, with a short timeout: an outage must not stall the test."""

    def __init__(self, base, timeout=12):
        self.base = base
        self.timeout = timeout
        self.http = requests.Session()

    def call(self, method, path, body=None, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            r = self.http.request(method, self.base + "/api/v1" + path, json=body, headers=headers,
                                  timeout=self.timeout)
        except requests.RequestException as exc:
            self.http.close()
            self.http = requests.Session()
            return type(exc).__name__, None
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, None


class Workload:
    def __init__(self, sut, flows, office, desk_officer, procedure):
        self.sut = sut
        self.flows = flows
        self.office = office
        self.desk_officer = desk_officer
        self.procedure = procedure
        self.marker = "fault-" + uuid.uuid4().hex[:10]
        self.answers = []          # (kind, key, status, body)
        self.to_activate = []      # application ids that attended an orientation
        self.to_approve = []       # dicts from Flows.submitted_report
        self.duplicates = {}
        self._stop = False
        self._pool = eventlet.GreenPool(32)
        self._tickets = itertools.count()

    # -- before the fault
    def prepare(self, activations=8, reports=()):
        client = Client(self.sut.base)
        ids = []
        for _ in range(activations):
            status, body = client.call("POST", "/applications", self._application())
            assert status == 201, (status, body)
            ids.append(body["id"])
        starts = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).isoformat()
        status, o = client.call("POST", "/orientations", {"starts_at": starts, "place": "دفتر نمایندگی",
                                                          "capacity": 500}, token=self.office)
        assert status == 201, (status, o)
        for app_id in ids:
            status, body = client.call("POST", f"/applications/{app_id}/invite", {"orientation_id": o["id"]},
                                       token=self.office)
            assert status == 200, (status, body)
        status, body = client.call("POST", f"/orientations/{o['id']}/attendance", {"application_ids": ids},
                                   token=self.office)
        assert status == 200, (status, body)
        self.to_activate = list(ids)
        self.to_approve = list(reports)
        return self

    def _application(self):
        return {"national_id": make_national_id(next(_nid)), "first_name": "زهرا", "last_name": "رضایی",
                "father_name": "علی", "gender": "female", "birth_date": "1370/05/12", "mobile": next_mobile(),
                "education": "bachelor", "province": "9", "county": COUNTY,
                "address": "مشهد، خیابان امام رضا، پلاک ۱۲"}

    # -- during the fault
    def start(self, appliers=2, desks=2):
        for _ in range(appliers):
            self._pool.spawn(self._loop, self._apply, 0.05)
        for _ in range(desks):
            self._pool.spawn(self._loop, self._ticket, 0.05)
        self._pool.spawn(self._loop, self._activate, 0.4)
        self._pool.spawn(self._loop, self._approve, 1.5, 1.5)  # the approval lands in the fault
        return self

    def stop(self):
        self._stop = True
        self._pool.waitall()
        return self

    def _loop(self, step, pause, delay=0.0):
        client = Client(self.sut.base)
        eventlet.sleep(delay)
        while not self._stop:
            if step(client) is False:
                return
            eventlet.sleep(pause)

    def _record(self, kind, key, status, body):
        self.answers.append((kind, key, status, body, time.monotonic()))

    def _apply(self, client):
        body = self._application()
        status, answer = client.call("POST", "/applications", body)
        self._record("apply", body["national_id"], status, answer)

    def _ticket(self, client):
        marker = f"{self.marker}-{next(self._tickets)}"
        status, answer = client.call("POST", "/desk/tickets", {
            "procedure": self.procedure, "visitor": {"full_name": "محمد احمدی", "national_id": make_national_id(
                next(_nid)), "mobile": next_mobile()}, "documents_received": [], "description": marker},
            token=self.desk_officer)
        self._record("ticket", marker, status, answer)

    def _activate(self, client):
        if not self.to_activate:
            return False
        app_id = self.to_activate.pop(0)
        status, answer = client.call("POST", f"/applications/{app_id}/activate", token=self.office)
        self._record("activate", app_id, status, answer)

    def _approve(self, client):
        if not self.to_approve:
            return False
        report = self.to_approve.pop(0)
        status, answer = client.call("POST", f"/reports/{report['report']}/approve", token=report["supervisor"])
        self._record("approve", report, status, answer)

    # -- after the fault
    def ok(self, kind, statuses=(200, 201)):
        return [(key, body) for k, key, status, body, _ in self.answers if k == kind and status in statuses]

    def summary(self):
        out = {}
        for kind, _, status, _, _ in self.answers:
            out.setdefault(kind, {}).setdefault(str(status), 0)
            out[kind][str(status)] += 1
        return out

    def verify(self, timeout=40):
        """Every success is stored, nothing happened twice, every event reached its consumers; waits for the
        asynchronous parts up to ``timeout`` seconds and fails with what is still missing."""
        answers = self.summary()
        for kind, key, status, body, _ in self.answers:  # a success answer has the shape it promises
            if status in (200, 201):
                assert isinstance(body, dict), (kind, key, status, body)
        # nothing answered 500 for a reason other than the outage: allowed failures are 5xx and connection errors
        for kind, key, status, body, _ in self.answers:
            assert status in (200, 201, 409, 500, 502, 503, 504) or isinstance(status, str), \
                (kind, key, status, body, answers)
        self._stored()
        self._eventually(self._events_delivered, timeout, "events delivered")
        self._eventually(self._projections, timeout, "projections")
        dead = {q: n for q, n in self.sut.queue_depths().items() if q.endswith(".dead") and n}
        assert not dead, f"events were dead-lettered: {dead}"
        return answers

    def _stored(self):
        sut = self.sut
        applied = self.ok("apply")
        if applied:
            rows = sut.query("membership", "SELECT id, national_id FROM applications WHERE national_id = ANY(:n)",
                             n=[k for k, _ in applied])
            stored = {r["national_id"]: r["id"] for r in rows}
            for nid, body in applied:
                assert stored.get(nid) == body["id"], f"application {nid} answered 201 {body} but is not stored"
        made = self.ok("ticket")
        rows = sut.query("desk", "SELECT id, description FROM tickets WHERE description LIKE :m",
                         m=self.marker + "-%")
        by_marker = {}
        for r in rows:
            by_marker.setdefault(r["description"], []).append(r["id"])
        # one request, two tickets: the RPC was executed a second time (see docs/resilience.md, "at-least-once RPC")
        self.duplicates = {m: ids for m, ids in by_marker.items() if len(ids) > 1}
        for marker, body in made:
            assert body["id"] in by_marker.get(marker, []), f"ticket {marker} answered 201 {body} but is not stored"
        activated = self.ok("activate")
        if activated:
            rows = sut.query("membership", "SELECT id, member_id, status FROM applications WHERE id = ANY(:i)",
                             i=[k for k, _ in activated])
            stored = {r["id"]: r for r in rows}
            for app_id, body in activated:
                row = stored[app_id]
                assert row["status"] == "activated" and row["member_id"] == body["member_id"], (app_id, body, row)
        approved = self.ok("approve")
        if approved:
            rows = sut.query("reporting", "SELECT id, status FROM reports WHERE id = ANY(:i)",
                             i=[k["report"] for k, _ in approved])
            assert {r["id"]: r["status"] for r in rows} == {k["report"]: "approved" for k, _ in approved}

    def _events_delivered(self):
        """Every outbox row is published, and each consumer of its type has it in its inbox."""
        missing = []
        routes = consumers()
        for service in SERVICES:
            rows = self.sut.query(service, "SELECT event_id, event_type, published_at FROM outbox")
            unpublished = [r["event_type"] for r in rows if r["published_at"] is None]
            if unpublished:
                missing.append(f"{service}: {len(unpublished)} unpublished ({sorted(set(unpublished))})")
            for (source, event_type), targets in routes.items():
                if source != service:
                    continue
                wanted = {r["event_id"] for r in rows if r["event_type"] == event_type}
                for consumer_service, consumer in targets:
                    if not wanted:
                        continue
                    got = {r["event_id"] for r in self.sut.query(
                        consumer_service, "SELECT event_id FROM inbox WHERE consumer = :c AND event_id = ANY(:e)",
                        c=consumer, e=list(wanted))}
                    if wanted - got:
                        missing.append(f"{consumer}: {len(wanted - got)} of {len(wanted)} {event_type} not handled")
        return missing

    def _projections(self):
        """Events took effect once: one catalog member per activation, shrine counts each approval once."""
        problems = []
        members = [body["member_id"] for _, body in self.ok("activate")]
        if members:
            rows = self.sut.query("catalog", "SELECT member_id FROM members WHERE member_id = ANY(:m)", m=members)
            if sorted(r["member_id"] for r in rows) != sorted(members):
                problems.append(f"catalog members: {len(rows)} rows for {len(members)} activations")
            rows = self.sut.query("shrine", "SELECT id FROM members WHERE id = ANY(:m) AND activated_at IS NOT NULL",
                                  m=members)
            if len(rows) != len(members):
                problems.append(f"shrine members: {len(rows)} activated of {len(members)}")
        approved = [(k, body) for k, body in self.ok("approve")]
        for report, _body in approved:
            rows = self.sut.query("shrine", "SELECT approved_reports, eligible FROM members WHERE id = :m",
                                  m=report["id"])
            if not rows or rows[0]["approved_reports"] != 1 or not rows[0]["eligible"]:
                problems.append(f"shrine member {report['id']}: {rows and dict(rows[0])} after one approved report")
        return problems

    def _eventually(self, check, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            problems = check()
            if not problems:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: still wrong after {timeout} s: {problems}")
            time.sleep(0.5)
