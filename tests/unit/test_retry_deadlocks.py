"""kit.db.retry_deadlocks: a transaction PostgreSQL ended in a deadlock runs again; any other error does not."""
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import DBAPIError

from kit.db import retry_deadlocks


class PgError(Exception):
    def __init__(self, pgcode):
        super().__init__(pgcode)
        self.pgcode = pgcode


class Service:
    def __init__(self, failures):
        self.failures = list(failures)  # pgcodes raised by the first runs, in order
        self.runs = 0
        self.db = SimpleNamespace(rollbacks=0)
        self.db.rollback = lambda: setattr(self.db, "rollbacks", self.db.rollbacks + 1)

    @retry_deadlocks
    def accept(self):
        self.runs += 1
        if self.failures:
            raise DBAPIError("UPDATE reservations …", {}, PgError(self.failures.pop(0)))
        return "accepted"


def test_a_deadlock_or_a_serialization_failure_runs_the_transaction_again():
    service = Service(["40P01", "40001"])
    assert service.accept() == "accepted"
    assert service.runs == 3 and service.db.rollbacks == 2


def test_it_gives_up_after_four_runs():
    service = Service(["40P01"] * 4)
    with pytest.raises(DBAPIError):
        service.accept()
    assert service.runs == 4


def test_any_other_database_error_is_raised_at_once():
    service = Service(["23505"])  # a unique violation is an answer, not bad luck
    with pytest.raises(DBAPIError):
        service.accept()
    assert service.runs == 1
