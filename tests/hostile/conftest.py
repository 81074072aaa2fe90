"""Hostile callers against the in-process ``system`` (SQLite and PostgreSQL): another province, the wrong role,
forged tokens, guessing. Run on their own with ``pytest -q tests/hostile``."""
import shutil
import tempfile

import pytest

from tests.hostile.registry import CENTRE, UNIT, counties

ROLES = ("admin", "province_office", "thematic_center", "neighborhood_center", "supervisor", "shrine_office",
         "desk_officer", "unit_officer", "member")


class Hostile:
    """Tokens of every role in provinces 9 and 23 (real accounts, made once per system), and the shared records."""

    def __init__(self, system, flows, office):
        self.system = system
        self.flows = flows
        self.api = flows.api
        self._office = office
        self._members = {}
        self._procedure = None

    def admin(self):
        return self.flows.admin()

    def office(self, province):
        return self._office[province]

    def scope(self, role, province):
        county = counties(province)[0]
        return {"thematic_center": {"county": county, "field": self.flows.shared_field()[0]},
                "neighborhood_center": {"county": county, "center": CENTRE},
                "supervisor": {"county": county, "center": CENTRE},
                "unit_officer": {"unit": UNIT}}.get(role, {})

    def token(self, role, province):
        """A logged-in user of ``role`` in ``province``, scoped like the records the registry makes there."""
        if role == "admin":
            return self.admin()
        if role == "province_office":
            return self.office(province)
        if role == "member":
            if province not in self._members:
                self._members[province] = self.flows.member(self.office(province), province)
            return self._members[province]["token"]
        return self.flows.cached_staff(role, province, **self.scope(role, province))

    def shrine_members(self, n, province="9"):
        """Members the shrine knows from events (MemberActivated and ReportApproved), with minted tokens."""
        return self.flows.shrine_members(self.system.config, n, province=province)

    def foreign(self, role):
        """A user of ``role`` in province 23; a member of 23 for the shrine is one the shrine knows as such."""
        return self.token(role, "23")

    def procedure(self):
        if self._procedure is None:
            from tests.hostile.registry import _procedure
            self._procedure = _procedure(self)
        return self._procedure


@pytest.fixture
def hostile(system, flows, office):
    cache = flows.__dict__.setdefault("_hostile", None)
    if cache is None:
        cache = flows._hostile = Hostile(system, flows, office)
    return cache


@pytest.fixture
def documents_dir(system):
    """Uploaded documents go to a directory of this test's own, removed afterwards."""
    path = tempfile.mkdtemp(prefix="khademyar-hostile-docs-")
    before = system.config.get("DOCUMENTS_DIR")
    system.config["DOCUMENTS_DIR"] = path
    yield path
    if before is None:
        system.config.pop("DOCUMENTS_DIR", None)
    else:
        system.config["DOCUMENTS_DIR"] = before
    shutil.rmtree(path, ignore_errors=True)
