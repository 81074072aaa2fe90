"""The real thing, once: the PostgreSQL server restarts, then the RabbitMQ application restarts, under load.

Marked ``disruptive``: every database and every broker connection on this machine sees it (other engineers' runs
too), for a few seconds; ``-m "not disruptive"`` leaves it out. The server and the application are always started
again (``finally`` in tests/faults/support.py).
"""
import time

import eventlet
import pytest

from tests.faults.support import restart_broker_app, restart_postgres
from tests.faults.test_recovery import drive_through

pytestmark = [pytest.mark.disruptive, pytest.mark.timeout(180)]


def test_database_server_and_broker_application_restarted(stage):
    sut = stage.sut
    took = {}

    def fault():
        started = time.monotonic()
        restart_postgres()
        took["postgres"] = round(time.monotonic() - started, 1)
        eventlet.sleep(1.5)
        started = time.monotonic()
        restart_broker_app(seconds=0.5)
        took["broker"] = round(time.monotonic() - started, 1)

    drive_through(stage, fault, after=3)
    print(f"outages (s): {took}")
    assert not sut.dead_processes(), sut.dead_processes()
