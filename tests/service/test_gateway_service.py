"""The gateway's own logic with its RPC proxies replaced (nameko's worker_factory)."""
import json

from nameko.exceptions import UnknownService
from nameko.testing.services import worker_factory

from gateway.routes.core import SERVICES
from gateway.service import Gateway
from kit.rpc import ServiceTimeout


def test_readiness_names_the_service_that_does_not_answer():
    gateway = worker_factory(Gateway)
    for name in SERVICES:
        getattr(gateway, name).health.call_within.return_value = {"ok": True}
    gateway.desk.health.call_within.side_effect = UnknownService("desk")
    gateway.shrine.health.call_within.side_effect = ServiceTimeout("shrine.health did not answer in 3 s")
    response = gateway.readyz(None)
    body = json.loads(response.get_data())
    assert response.status_code == 503 and body["services"]["desk"] == "unavailable: UnknownService"
    assert body["services"]["shrine"] == "unavailable: ServiceTimeout"
    assert body["services"]["membership"] == "ok"
    gateway.membership.health.call_within.assert_called_once_with(3)  # each check bounded, publication included
    gateway.desk.health.call_within.side_effect = None
    gateway.shrine.health.call_within.side_effect = None
    assert gateway.readyz(None).status_code == 200


class Request:
    def __init__(self, actor):
        self.actor = actor


def test_me_keeps_the_profile_and_names_parts_that_are_away():
    gateway = worker_factory(Gateway)
    gateway.membership.me.call_async.return_value.result.return_value = {"id": "m1"}
    gateway.shrine.me_part.call_async.side_effect = UnknownService("shrine")
    out = gateway.me(Request({"id": "m1", "role": "member"}))
    assert out["profile"] == {"id": "m1"} and out["shrine"] is None and out["unavailable"] == ["shrine"]
