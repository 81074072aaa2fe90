"""Bearer JWTs: HS256 only, with iss, aud and exp checked on every request."""
import time

import jwt

ISSUER = "khademyar"
AUDIENCE = "khademyar-api"
ALGORITHMS = ["HS256"]  # the allow-list: never "none", never what the token's header asks for


def issue(claims, secret, ttl):
    now = int(time.time())
    payload = {
        "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + int(ttl),
        "sub": claims["id"], "role": claims["role"], "prov": claims.get("province"),
        "cty": claims.get("county"), "fld": claims.get("field"), "ctr": claims.get("center"),
        "unt": claims.get("unit"), "pwd": bool(claims.get("must_change_password")),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHMS[0])


def decode(token, secret):
    """The claims of a valid token; raises jwt.InvalidTokenError otherwise."""
    return jwt.decode(token, secret, algorithms=ALGORITHMS, audience=AUDIENCE, issuer=ISSUER,
                      options={"require": ["exp", "iss", "aud", "sub"]})


def actor(p):
    """The actor that a token's claims speak for, as the services receive it."""
    return {
        "id": p["sub"], "role": p.get("role"), "province": p.get("prov"), "county": p.get("cty"),
        "field": p.get("fld"), "center": p.get("ctr"), "unit": p.get("unt"),
        "must_change_password": bool(p.get("pwd")),
    }


def verify(token, secret):
    """The actor a valid token speaks for; raises jwt.InvalidTokenError otherwise."""
    return actor(decode(token, secret))
