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


# Tokens already verified, by (token, secret): a member's phone sends the same token with every request, and
# PyJWT's checks (two base64 and JSON decodings, the HMAC, the claims) were a twentieth of the gateway's CPU in
# the booking storm. The signature of a given token string verifies once and for all; what time changes (exp) is
# checked again on every use. Oldest first out beyond VERIFIED_MAX. Revocation is not cached here: the gateway
# asks its revocation list on every request (gateway/revocation.py).
_VERIFIED = {}
VERIFIED_MAX = 16384


def decode(token, secret):
    """The claims of a valid token (shared: not to be changed); raises jwt.InvalidTokenError otherwise."""
    key = (token, secret)
    claims = _VERIFIED.get(key)
    if claims is not None:
        if time.time() < claims["exp"]:
            return claims
        _VERIFIED.pop(key, None)  # expired: PyJWT says so below
    claims = jwt.decode(token, secret, algorithms=ALGORITHMS, audience=AUDIENCE, issuer=ISSUER,
                        options={"require": ["exp", "iss", "aud", "sub"]})
    if len(_VERIFIED) >= VERIFIED_MAX:
        _VERIFIED.pop(next(iter(_VERIFIED)), None)
    _VERIFIED[key] = claims
    return claims


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
