"""The OpenAPI 3 document, generated from the gateway's routes and the services' marshmallow schemas."""
import functools
import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.http import ApiRoute

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; messages in Persian unless Accept-Language: en.",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable machine-readable code"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "per-field messages"},
    },
    "required": ["type", "title", "status", "code"],
}


def routes(service_cls=None):
    if service_cls is None:
        from gateway.service import Gateway as service_cls
    found = []
    for name, member in inspect.getmembers(service_cls, inspect.isfunction):
        for entry in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entry, ApiRoute):
                found.append((name, entry))
    return sorted(found, key=lambda item: (item[1].path, item[1].method))


def _schema_name(schema):
    """``membership.ApplicationIn``: unique across services, and says whose contract it is."""
    cls = schema if isinstance(schema, type) else type(schema)
    parts = cls.__module__.split(".")
    owner = parts[1] if parts[0] == "services" and len(parts) > 2 else parts[0]
    return f"{owner}.{cls.__qualname__}"


@functools.lru_cache(maxsize=1)
def document():
    spec = APISpec(title="Khademyar API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin(schema_name_resolver=lambda s: _schema_name(s))],
                   info={"description": "HTTP API of Khademyar: the Razavi volunteer programme (خادمیاری رضوی) "
                                        "and the service desk (میز خدمت). Errors are application/problem+json."})
    spec.components.schema("Problem", PROBLEM)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    paths = {}
    for name, route in routes():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", route.path)
        op = {"operationId": name, "summary": route.summary or name, "tags": [route.tag or "api"],
              "responses": {}}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in re.findall(r"{([^}]+)}", path)]
        if route.query_schema is not None:
            params.append({"in": "query", "schema": route.query_schema})
        if params:
            op["parameters"] = params
        if route.body_schema is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": route.body_schema}}}
        ok = {"description": "OK"}
        if route.answer_schema is not None:
            ok["content"] = {"application/json": {"schema": route.answer_schema}}
        elif route.status != 204:
            ok["content"] = {"application/json": {"schema": {"type": "object"}}}
        op["responses"][str(route.status)] = ok
        errors = ["422"] if route.body_schema is not None or route.query_schema is not None else []
        if route.body_schema is not None:
            errors += ["400", "413"]
        if not route.public:
            op["security"] = [{"bearer": []}]
            errors += ["401", "403"]
        if params and any(p.get("in") == "path" for p in params):
            errors.append("404")
        if route.method in ("POST", "PUT", "DELETE") and not route.raw:
            errors.append("409")
        if not route.raw:
            errors += ["503", "504"]  # a service away, or slower than RPC_TIMEOUT
        problem_body = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for code in sorted(set(errors)):
            op["responses"][code] = {"description": "Problem", "content": problem_body}
        paths.setdefault(path, {})[route.method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
