"""A deactivated member's token stops working at once (gateway/revocation.py), on every gateway process, also on
one that starts after the deactivation; a reinstated member's token works again."""
import time
import uuid

from nameko.runners import ServiceRunner

from gateway.service import Gateway
from tests.fixtures import Api, free_port


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def decide(api, office, member_id, decision):
    case = api.post(f"/members/{member_id}/breaches", {"note": "تخلف " + uuid.uuid4().hex[:6]}, token=office)
    assert case.status in (200, 201), case
    d = api.post(f"/reviews/{case.json['review_id']}/decision", {"decision": decision, "note": "تصمیم دفتر"},
                 token=office)
    assert d.status == 200, d
    return d


def test_a_deactivated_members_token_is_refused_at_once_even_by_a_gateway_started_later(system, api, flows, office):
    member = flows.member(office["9"])
    assert api.get("/me", token=member["token"]).status == 200
    decide(api, office["9"], member["id"], "deactivate")
    refused = wait_for(lambda: (lambda r: r if r.status == 401 else None)(api.get("/me", token=member["token"])))
    assert refused.json["code"] == "account_deactivated"
    assert "غیرفعال" in refused.json["detail"]
    assert api.get("/me", token=office["9"]).status != 401  # other people's tokens are not touched

    # a gateway process that starts now learns the deactivation from membership, not from the event it missed
    config = dict(system.config, WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port()}")
    runner = ServiceRunner(config)
    runner.add_service(Gateway)
    runner.start()
    try:
        other = Api("http://" + config["WEB_SERVER_ADDRESS"])
        late = wait_for(lambda: (lambda r: r if r.status == 401 else None)(other.get("/me", token=member["token"])))
        assert late.json["code"] == "account_deactivated"
    finally:
        runner.stop()


def test_a_reinstated_members_token_works_again_and_a_suspended_member_keeps_theirs(system, api, flows, office):
    member = flows.member(office["9"])
    decide(api, office["9"], member["id"], "suspend")
    time.sleep(1)
    assert api.get("/me", token=member["token"]).status == 200  # suspended: still may log in and read their state
    r = api.post(f"/members/{member['id']}/reinstate", {"note": "بازگشت"}, token=office["9"])
    assert r.status == 200, r
    decide(api, office["9"], member["id"], "deactivate")
    wait_for(lambda: api.get("/me", token=member["token"]).status == 401)
    back = api.post(f"/members/{member['id']}/reinstate", {"note": "بازگشت به خدمت"}, token=office["9"])
    assert back.status == 200, back
    wait_for(lambda: api.get("/me", token=member["token"]).status == 200)
