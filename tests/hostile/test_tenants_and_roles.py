"""Every id-taking route of the OpenAPI document: another province's user gets 404, the wrong role 403.

The routes are read from ``gateway.openapi.document()`` (what ``docs/openapi.json`` is written from), and their
roles from the gateway's route table; ``registry.py`` makes a real record in province 9 for each. See the
docstring of ``registry.py`` for what is proved.
"""
import re

import pytest

from gateway.openapi import document, routes
from tests.hostile.conftest import ROLES
from tests.hostile.registry import PUBLIC, REGISTRY


def id_routes():
    """``{"METHOD /path/{id}": (operation, roles)}`` for every operation with a path parameter."""
    roles = {}
    for _, route in routes():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", route.path)
        roles[f"{route.method} {path}"] = route.roles
    found = {}
    for path, operations in document()["paths"].items():
        if "{" not in path:
            continue
        for method, op in operations.items():
            key = f"{method.upper()} {path}"
            found[key] = (op, roles[key])
    return found


ROUTES = id_routes()


def test_every_id_route_is_registered():
    """A new route that takes an id needs an entry in tests/hostile/registry.py (or in PUBLIC, with its reason)."""
    public = {k for k, (op, _) in ROUTES.items() if "security" not in op}
    missing = sorted(k for k in ROUTES if k not in REGISTRY and k not in PUBLIC)
    assert not missing, f"id-taking routes with no entry in tests/hostile/registry.py REGISTRY: {missing}"
    assert public == set(PUBLIC), (f"PUBLIC must list exactly the unauthenticated id routes: missing "
                                   f"{sorted(public - set(PUBLIC))}, not public (or gone) {sorted(set(PUBLIC) - public)}")
    stale = sorted(k for k in REGISTRY if k not in ROUTES)
    assert not stale, f"registry entries for routes that are no longer in the document: {stale}"
    for key, (_op, roles) in ROUTES.items():
        if key in REGISTRY:
            assert roles, f"{key} is authenticated but open to every role: say which roles may call it"


def call(h, key, target, token):
    method, template = key.split(" ", 1)
    path = template
    for name, value in target.params.items():
        path = path.replace("{" + name + "}", value)
    if target.data is not None:
        return h.api.call(method, path, data=target.data, headers=target.headers, token=token)
    return h.api.call(method, path, json=target.body, headers=target.headers, token=token)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_another_province_gets_404_and_a_wrong_role_403(key, hostile, documents_dir):
    case = REGISTRY[key]
    op, allowed = ROUTES[key]
    target = case.make(hostile)

    for role in ROLES:
        if role in allowed:
            continue
        r = call(hostile, key, target, hostile.token(role, "9"))
        assert r.status == 403 and r.json["code"] == "role_not_allowed", (key, role, r)

    foreign = [role for role in allowed if role != "admin" and role not in case.open_to]
    if case.national:
        assert set(allowed) == {"admin"}, f"{key}: national data must be admin-only ({case.national})"
    else:
        assert foreign or case.open_to, f"{key}: no role of another province to try"
    for role in foreign:
        r = call(hostile, key, target, hostile.foreign(role))
        assert r.status == 404, (key, f"{role} of province 23", r)
        assert r.json["code"].endswith("not_found"), (key, role, r)

    if "member" in foreign:  # and a member of the same province whose record it is not: 404 as well
        neighbour = hostile.token("member", "9")
        if neighbour != target.owner:
            r = call(hostile, key, target, neighbour)
            assert r.status == 404, (key, "another member of province 9", r)

    r = call(hostile, key, target, target.owner)
    assert r.status == target.ok, (key, "owner", r)
