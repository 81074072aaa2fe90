"""Fault tests: the system as processes on PostgreSQL and its own vhost, and a flow to drive through a fault.

Run on their own: ``pytest -q tests/faults`` (``-m disruptive`` selects the one test that restarts the PostgreSQL
server and the broker application themselves; ``-m "not disruptive"`` leaves it out).
"""
import os
import uuid

import eventlet
import pytest

from tests.faults.support import ProcessSystem
from tests.faults.workload import Workload
from tests.fixtures import Api, Flows

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_configure(config):
    config.addinivalue_line("markers", "disruptive: restarts the shared PostgreSQL server and the RabbitMQ "
                                       "application (seconds); other runs on this machine see it too")


def _asked_for(config):
    """True when this invocation names tests/faults (or something in it), or KHADEMYAR_FAULTS=1."""
    if os.environ.get("KHADEMYAR_FAULTS") == "1":
        return True
    for arg in config.invocation_params.args:
        path = os.path.abspath(os.path.join(str(config.invocation_params.dir), str(arg).split("::")[0]))
        if path == HERE or path.startswith(HERE + os.sep):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    """The fault suite is its own step (``pytest tests/faults``): a run of the whole tree (``pytest``, ``pytest
    tests``) skips it, so it never breaks the broker and the database under the main suite's in-process system."""
    if _asked_for(config):
        return
    skip = pytest.mark.skip(reason="the fault suite runs on its own: pytest tests/faults (or KHADEMYAR_FAULTS=1)")
    for item in items:
        if str(item.path).startswith(HERE + os.sep):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sut():
    system = ProcessSystem()
    try:
        system.start()
        yield system
    finally:
        system.stop()


class Stage:
    """What every fault test needs ready before its fault: an office, a desk and its procedure, and a pool of
    service reports waiting for their supervisor's approval (the slow part of the volunteer story, made once)."""

    def __init__(self, sut, reports=6):
        self.sut = sut
        self.flows = Flows(Api(sut.base))
        self.office = self.flows.staff("province_office", "9")[0]
        self.desk_officer = self.flows.staff("desk_officer", "9")[0]
        r = self.flows.api.post("/desk/procedures", {
            "title": "صدور کارت زائر", "unit": "امور زائرین " + uuid.uuid4().hex[:6], "conditions": "کارت ملی",
            "required_documents": [], "steps": ["دریافت", "بررسی"], "standard_days": 3, "fee": 0},
            token=self.office)
        assert r.status == 201, r
        self.procedure = r.json["id"]
        first = self.flows.submitted_report(self.office)  # fills the flows' caches (field, centre, supervisor)
        pool = eventlet.GreenPool(reports)
        self.reports = [first] + list(pool.imap(lambda _: Flows.submitted_report(self._flows(), self.office),
                                                range(reports - 1)))

    def _flows(self):
        """A Flows of its own per green thread (one HTTP session each), sharing the caches of the first."""
        f = Flows(Api(self.sut.base))
        f._admin = self.flows._admin
        f.__dict__["_staff_cache"] = self.flows.__dict__.get("_staff_cache", {})
        f.__dict__["_fields"] = self.flows.__dict__.get("_fields", {})
        return f

    def take_reports(self, n):
        while len(self.reports) < n:  # the pool ran dry (more tests than foreseen): one more, the slow way
            self.reports.append(self._flows().submitted_report(self.office))
        taken, self.reports = self.reports[:n], self.reports[n:]
        return taken

    def workload(self):
        return Workload(self.sut, self.flows, self.office, self.desk_officer, self.procedure)

    def fresh_requests_succeed(self):
        """After recovery, without any manual step: a new application and a new ticket are taken."""
        flows = Flows(Api(self.sut.base))
        person = flows.application("9")
        applied = flows.api.post("/applications", person)
        assert applied.status == 201, applied
        ticket = flows.api.post("/desk/tickets", {
            "procedure": self.procedure, "description": "پس از بازیابی",
            "visitor": {"full_name": "رضا موسوی", "national_id": person["national_id"], "mobile": person["mobile"]}},
            token=self.desk_officer)
        assert ticket.status == 201, ticket


@pytest.fixture(scope="session")
def stage(sut):
    return Stage(sut, reports=12)


@pytest.fixture(autouse=True)
def whole_again(request):
    """After each test: a process that exited (a failed or expected-to-fail test) is started again, so the next
    test begins with the whole system. Each test has already asserted what it must before this runs."""
    yield
    if "stage" in request.fixturenames:
        revived = request.getfixturevalue("sut").revive()
        if revived:
            print(f"\n(started again after the test: {sorted(revived)})")
