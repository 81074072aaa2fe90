"""Guessing is slowed down: login (per account and per client) and public ticket tracking (per code and per client)
answer 429 with a Retry-After once the limit is reached, even for the right credentials.

Each test speaks as a client address of its own (``X-Forwarded-For`` through the trusted local proxy), so the
limits it reaches never throttle another test.
"""
import uuid

from services.desk import domain as desk_domain
from services.membership import domain as membership_domain
from tests.fixtures import next_mobile, next_national_id


def client():
    n = uuid.uuid4().int
    return {"X-Forwarded-For": f"10.{n % 250 + 1}.{n // 250 % 250}.{n // 62500 % 250}"}


def assert_limited(r, code):
    assert r.status == 429 and r.json["code"] == code, r
    assert int(r.headers["Retry-After"]) > 0, r.headers


def test_login_is_limited_per_account_even_for_the_right_password(hostile):
    account = hostile.flows.staff_account("desk_officer", "9")
    me = client()
    for _ in range(membership_domain.LOGIN_LIMIT_PER_ID):
        r = hostile.api.post("/auth/login", {"national_id": account["national_id"], "password": "wrong-password-1"},
                             headers=me)
        assert r.status == 401, r
    # from anywhere, with the right password: the account is shut for the window
    right = hostile.api.post("/auth/login", {"national_id": account["national_id"], "password": account["password"]},
                             headers=client())
    assert_limited(right, "too_many_login_attempts")


def test_login_is_limited_per_client(hostile):
    account = hostile.flows.staff_account("desk_officer", "9")
    me = client()
    for _ in range(membership_domain.LOGIN_LIMIT_PER_CLIENT):
        r = hostile.api.post("/auth/login", {"national_id": next_national_id(), "password": "guess-guess-1"},
                             headers=me)
        assert r.status == 401, r
    r = hostile.api.post("/auth/login", {"national_id": account["national_id"], "password": account["password"]},
                         headers=me)
    assert_limited(r, "too_many_login_attempts")
    # another client is not affected
    assert hostile.api.post("/auth/login", {"national_id": account["national_id"], "password": account["password"]},
                            headers=client()).status == 200


def _ticket(hostile):
    mobile = next_mobile()
    r = hostile.api.post("/desk/tickets", {"procedure": hostile.procedure(), "visitor": {
        "full_name": "محمد احمدی", "national_id": next_national_id(), "mobile": mobile},
        "description": "پیگیری آزمون"}, token=hostile.token("desk_officer", "9"))
    assert r.status == 201, r
    return r.json["tracking_code"], mobile


def test_tracking_is_limited_per_code(hostile):
    code, mobile = _ticket(hostile)
    for _ in range(desk_domain.TRACK_LIMIT_PER_CODE):
        assert hostile.api.get(f"/desk/tickets/{code}?mobile={next_mobile()}", headers=client()).status == 404
    assert_limited(hostile.api.get(f"/desk/tickets/{code}?mobile={mobile}", headers=client()),
                   "too_many_tracking_attempts")
    rating = hostile.api.post(f"/desk/tickets/{code}/rating", {"mobile": mobile, "score": 5}, headers=client())
    assert_limited(rating, "too_many_tracking_attempts")


def test_tracking_is_limited_per_client(hostile):
    code, mobile = _ticket(hostile)
    me = client()
    for _ in range(desk_domain.TRACK_LIMIT_PER_CLIENT):
        guess = desk_domain.new_tracking_code()
        assert hostile.api.get(f"/desk/tickets/{guess}?mobile={next_mobile()}", headers=me).status == 404
    assert_limited(hostile.api.get(f"/desk/tickets/{code}?mobile={mobile}", headers=me), "too_many_tracking_attempts")
    assert hostile.api.get(f"/desk/tickets/{code}?mobile={mobile}", headers=client()).status == 200
