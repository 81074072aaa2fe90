"""Forged, expired and ``alg: none`` tokens are refused (401) on every authenticated route of the OpenAPI document.

The gateway checks the token before anything else, so each route is called with a placeholder id and an empty
body: the answer must be 401 ``invalid_token`` with ``WWW-Authenticate: Bearer``, whatever the route would do next.
"""
import base64
import json
import time
import warnings

import jwt
import pytest

from gateway import auth
from gateway.openapi import document

PLACEHOLDER = {"jalali_year": "1403", "code": "KHD12345678"}


def authenticated_operations():
    out = []
    for path, operations in document()["paths"].items():
        for method, op in operations.items():
            if "security" in op:
                concrete = path
                for name in [p["name"] for p in op.get("parameters", []) if p.get("in") == "path"]:
                    concrete = concrete.replace("{" + name + "}", PLACEHOLDER.get(name, "0" * 32))
                out.append((method.upper(), concrete))
    return sorted(out)


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def forged(kind, token, secret):
    """A token of ``kind`` made from a real one (``token``, signed with the system's ``secret``)."""
    header_b64, payload_b64, signature = token.split(".")
    claims = jwt.decode(token, secret, algorithms=auth.ALGORITHMS, audience=auth.AUDIENCE, issuer=auth.ISSUER)
    now = int(time.time())
    if kind == "tampered":  # a member's token with the role changed to admin, signature kept
        return f"{header_b64}.{_b64(dict(claims, role='admin', prov=None))}.{signature}"
    if kind == "other_secret":
        return jwt.encode(claims, "not-the-secret-" + secret[::-1], algorithm="HS256")
    if kind == "expired":
        return jwt.encode(dict(claims, iat=now - 7200, nbf=now - 7200, exp=now - 60), secret, algorithm="HS256")
    if kind == "alg_none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    if kind == "alg_hs512":  # the right secret, an algorithm the gateway does not allow
        with warnings.catch_warnings():  # PyJWT finds the secret short for HS512: that is not what is tested
            warnings.simplefilter("ignore")
            return jwt.encode(claims, secret, algorithm="HS512")
    if kind == "no_expiry":
        return jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256")
    if kind == "wrong_audience":
        return jwt.encode(dict(claims, aud="another-api"), secret, algorithm="HS256")
    if kind == "not_yet_valid":
        return jwt.encode(dict(claims, nbf=now + 3600), secret, algorithm="HS256")
    raise ValueError(kind)


KINDS = ("tampered", "other_secret", "expired", "alg_none", "alg_hs512", "no_expiry", "wrong_audience",
         "not_yet_valid")


def test_the_forgeries_are_well_formed(system, hostile):
    """The forgeries differ from the real token only in what they forge: the real one is accepted."""
    token = hostile.token("member", "9")
    assert hostile.api.get("/me", token=token).status == 200
    for kind in KINDS:
        assert forged(kind, token, system.config["JWT_SECRET"]).count(".") == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_forged_or_expired_token_is_refused_on_every_authenticated_route(kind, system, hostile):
    token = forged(kind, hostile.token("member", "9"), system.config["JWT_SECRET"])
    operations = authenticated_operations()
    assert len(operations) > 50
    wrong = []
    for method, path in operations:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        r = hostile.api.call(method, path, json=body, token=token)
        if r.status != 401 or (r.json or {}).get("code") != "invalid_token" or \
                not r.headers.get("WWW-Authenticate", "").startswith("Bearer"):
            wrong.append((method, path, r.status, r.json))
    assert not wrong, f"{kind} token not refused with 401 invalid_token: {wrong}"
