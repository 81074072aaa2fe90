"""Property-based fuzzing of every route in the OpenAPI document: no input may produce a 500.

schemathesis generates bodies, query strings and path parameters from the document (valid and
invalid ones); each case is sent as the admin, as an anonymous client, and with a broken token.
"""
import random

import schemathesis
from hypothesis import HealthCheck, settings

from gateway.openapi import document
from tests.fixtures import SERVICE_NAMES, STARTED

schema = schemathesis.openapi.from_dict(document())


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_input_gives_a_server_error(case, system, flows):
    token = flows.admin()
    # a client address of its own, so the fuzzing's failed logins do not throttle the other tests
    client = {"X-Forwarded-For": f"10.77.{random.randrange(256)}.{random.randrange(256)}"}
    for auth in ({"Authorization": f"Bearer {token}"}, {}, {"Authorization": "Bearer x.y.z"}):
        headers = dict(client, **auth)
        response = case.call(base_url=system.url, headers=headers, timeout=30)
        if response.status_code == 503 and set(STARTED) != set(SERVICE_NAMES):
            continue  # a route of a service this run did not start (TEST_SERVICES)
        assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text)
        if response.status_code >= 400:
            content_type = (response.headers.get("content-type") or [""])[0]
            assert content_type.startswith("application/problem+json"), (response.status_code, response.text)
            assert response.json()["code"]
