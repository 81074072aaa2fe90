"""The gateway's own rules, without a broker: the error table, tokens, and the published documents."""
import json
import os
import time

import jwt
import pytest
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.exceptions import UnknownService
from openapi_spec_validator import validate as validate_openapi

from gateway import auth
from gateway.errors import BadRequest, PayloadTooLarge, Unauthenticated, UnsupportedMediaType, problem_from_exception, status_of
from kit.amqp import BrokerUnavailable
from kit.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, TooManyRequests, Unauthorized
from kit.rpc import ServiceTimeout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("exc,status", [
    (Invalid("x", "ف"), 422), (NotFound("x", "ف"), 404), (Conflict("x", "ف"), 409), (Forbidden("x", "ف"), 403),
    (Unauthorized("x", "ف"), 401), (TooManyRequests("x", "ف"), 429), (BadRequest("x", "ف"), 400),
    (PayloadTooLarge("x", "ف"), 413), (Unauthenticated("x", "ف"), 401), (UnsupportedMediaType("x", "ف"), 415),
    (UnknownService("catalog"), 503), (RuntimeError("boom"), 500), (KeyError("k"), 500),
    (KombuOperationalError("[Errno 111] Connection refused"), 503), (ServiceTimeout("desk.track"), 504),
    (BrokerUnavailable("no publishing line came free in 10 s (to 'shrine.book')"), 503),
])
def test_error_table(exc, status):
    assert status_of(exc) == status


def test_subclasses_match_their_parent_row():
    class OfferLimit(Conflict):
        pass

    assert status_of(OfferLimit("offer_limit", "ف")) == 409


def test_service_errors_survive_the_rpc_wire_as_instances():
    from nameko.exceptions import deserialize, serialize
    original = Conflict("duplicate", "تکراری", "Duplicate", fields={"a": {"fa": "ف", "en": "e"}}, extra={"k": 1})
    back = deserialize(serialize(original))
    assert type(back) is Conflict and back.code == "duplicate" and back.fields["a"]["en"] == "e"
    assert back.extra == {"k": "1"} and isinstance(back, ServiceError)  # nameko sends argument values as text


class FakeRequest:
    def __init__(self, lang=None):
        self.headers = {"Accept-Language": lang} if lang else {}
        self.path = "/api/v1/x"


def test_problem_is_rfc9457_in_persian_by_default_and_english_on_request():
    exc = Invalid("validation_failed", "نادرست", "Invalid", fields={"mobile": {"fa": "همراه", "en": "mobile"}})
    fa = problem_from_exception(exc, FakeRequest())
    body = json.loads(fa.get_data())
    assert fa.status_code == 422 and fa.mimetype == "application/problem+json"
    assert body["code"] == "validation_failed" and body["detail"] == "نادرست" and body["errors"] == {"mobile": "همراه"}
    assert {"type", "title", "status", "instance"} <= set(body)
    en = json.loads(problem_from_exception(exc, FakeRequest("en-US,en;q=0.9")).get_data())
    assert en["detail"] == "Invalid" and en["errors"] == {"mobile": "mobile"}


def test_internal_errors_leak_nothing():
    body = json.loads(problem_from_exception(RuntimeError("password=hunter2"), FakeRequest()).get_data())
    assert body["status"] == 500 and "hunter2" not in json.dumps(body)


CLAIMS = {"id": "a1", "role": "member", "province": "9", "county": "916", "must_change_password": False}


def test_token_round_trip():
    token = auth.issue(CLAIMS, "s3cret", 60)
    actor = auth.verify(token, "s3cret")
    assert actor["id"] == "a1" and actor["role"] == "member" and actor["province"] == "9"


@pytest.mark.parametrize("mutate", ["expired", "wrong_secret", "wrong_aud", "wrong_iss", "alg_none", "hs512"])
def test_bad_tokens_are_refused(mutate):
    now = int(time.time())
    payload = {"iss": auth.ISSUER, "aud": auth.AUDIENCE, "sub": "a1", "role": "admin", "exp": now + 60}
    key, alg = "s3cret", "HS256"
    if mutate == "expired":
        payload["exp"] = now - 10
    elif mutate == "wrong_secret":
        key = "other"
    elif mutate == "wrong_aud":
        payload["aud"] = "someone-else"
    elif mutate == "wrong_iss":
        payload["iss"] = "evil"
    elif mutate == "alg_none":
        key, alg = None, "none"
    elif mutate == "hs512":
        alg = "HS512"
    token = jwt.encode(payload, key, algorithm=alg)
    with pytest.raises(jwt.InvalidTokenError):
        auth.verify(token, "s3cret")


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch):
    calls = []
    real = jwt.decode
    monkeypatch.setattr(auth.jwt, "decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    token = auth.issue(CLAIMS, "s3cret-cache", 60)
    assert auth.verify(token, "s3cret-cache")["id"] == "a1"
    assert auth.verify(token, "s3cret-cache")["id"] == "a1"
    assert len(calls) == 1  # the second use did not verify the signature again
    with pytest.raises(jwt.InvalidTokenError):  # the same token under another secret is verified, and refused
        auth.verify(token, "another-secret")
    with pytest.raises(jwt.InvalidTokenError):  # a changed signature is another token: verified, and refused
        auth.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "s3cret-cache")
    short = auth.issue(CLAIMS, "s3cret-cache", 2)  # exp is whole seconds: at least one second from now
    assert auth.verify(short, "s3cret-cache")["id"] == "a1"
    time.sleep(2.1)
    with pytest.raises(jwt.ExpiredSignatureError):  # remembered, but expired now
        auth.verify(short, "s3cret-cache")


def test_the_verified_tokens_are_bounded(monkeypatch):
    monkeypatch.setattr(auth, "VERIFIED_MAX", 5)
    monkeypatch.setattr(auth, "_VERIFIED", {})
    tokens = [auth.issue(dict(CLAIMS, id=f"m{i}"), "s3cret", 60) for i in range(12)]
    for token in tokens:
        auth.verify(token, "s3cret")
    assert len(auth._VERIFIED) == 5 and (tokens[-1], "s3cret") in auth._VERIFIED
    assert (tokens[0], "s3cret") not in auth._VERIFIED


def test_openapi_document_is_valid_and_covers_the_contract():
    from gateway.openapi import document
    doc = document()
    validate_openapi(doc)
    paths = doc["paths"]
    for path, method in [("/api/v1/applications", "post"), ("/api/v1/applications", "get"),
                         ("/api/v1/applications/{id}/invite", "post"), ("/api/v1/applications/{id}/activate", "post"),
                         ("/api/v1/orientations", "post"), ("/api/v1/orientations/{id}/attendance", "post"),
                         ("/api/v1/auth/login", "post"), ("/api/v1/auth/password", "post"), ("/api/v1/me", "get"),
                         ("/api/v1/staff", "post"), ("/api/v1/meetings", "post"),
                         ("/api/v1/meetings/{id}/attendance", "post"), ("/api/v1/provinces", "get"),
                         ("/api/v1/provinces/{code}/counties", "get"), ("/healthz", "get"), ("/readyz", "get"),
                         ("/metrics", "get")]:
        assert method in paths.get(path, {}), (path, method)
    apply = paths["/api/v1/applications"]["post"]
    props = doc["components"]["schemas"]["membership.ApplicationIn"]["properties"]
    assert {"national_id", "birth_date", "mobile", "education", "province", "county"} <= set(props)
    assert "422" in apply["responses"] and "security" not in apply
    assert paths["/api/v1/staff"]["post"]["security"] == [{"bearer": []}]


def test_committed_documents_are_current():
    """docs/openapi.json and docs/asyncapi.json are what the code generates (`make docs` rewrites them)."""
    from scripts.write_docs import dumps, render
    for name, doc in render().items():
        with open(os.path.join(ROOT, "docs", name), encoding="utf-8") as f:
            assert f.read() == dumps(doc), f"docs/{name} is stale: run `make docs`"


def test_asyncapi_lists_every_published_event_with_its_schema():
    from gateway.asyncapi import document, published
    doc = document()
    assert doc["asyncapi"].startswith("3.")
    names = {event.name for _, event in published()}
    assert {"ApplicationSubmitted", "MemberActivated"} <= names
    for name in names:
        message = doc["components"]["messages"][name]
        assert message["payload"]["properties"]["payload"]["$ref"] == f"#/components/schemas/{name}Payload"
        assert doc["components"]["schemas"][f"{name}Payload"]["properties"]


class PeerRequest:
    def __init__(self, peer, forwarded=None):
        self.remote_addr = peer
        self.headers = {"X-Forwarded-For": forwarded} if forwarded else {}


def test_client_address_trusts_only_our_own_proxies():
    from gateway.http import client_address
    assert client_address(PeerRequest("203.0.113.9", "1.2.3.4"), "10.0.0.1") == "203.0.113.9"  # spoof ignored
    assert client_address(PeerRequest("10.0.0.1", "1.2.3.4, 10.0.0.2"), "10.0.0.1,10.0.0.2") == "1.2.3.4"
    assert client_address(PeerRequest("10.0.0.1", "6.6.6.6, 1.2.3.4"), "10.0.0.1") == "1.2.3.4"
    assert client_address(PeerRequest("10.0.0.1"), "10.0.0.1") == "10.0.0.1"


def test_the_last_decision_on_a_member_stands_whatever_order_its_events_arrive_in():
    """MemberDeactivated and MemberReinstated come through two queues: either may overtake the other."""
    from gateway.revocation import Revocations

    r = Revocations()
    r.setup()
    r.revoke("m", 100.0)
    r.restore("m", 50.0)  # a reinstatement older than the deactivation, arriving after it
    assert r.refuses("m", 90) and not r.refuses("m", 101)
    r.restore("m", 200.0)
    assert not r.refuses("m", 90)
    r.revoke("m", 150.0)  # the deactivation that came before that reinstatement, arriving after it
    assert not r.refuses("m", 90)
    r.revoke("m", 300.0)  # deactivated again, later
    assert r.refuses("m", 250) and r.refuses("m", 300) and not r.refuses("m", 301)
    assert not r.refuses("someone-else", 1)
