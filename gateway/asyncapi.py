"""The AsyncAPI document of every published event, generated from the services' event schemas."""
import functools
import importlib

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

SERVICES = ("membership", "catalog", "reservation", "reporting", "shrine", "desk")


def published():
    """``[(service, event class)]`` for every service that declares ``EVENTS`` in its events.py."""
    out = []
    for service in SERVICES:
        try:
            module = importlib.import_module(f"services.{service}.events")
        except ModuleNotFoundError:
            continue
        out += [(service, event) for event in getattr(module, "EVENTS", ())]
    return out


@functools.lru_cache(maxsize=1)
def document():
    # apispec turns marshmallow schemas into JSON Schema; we place them in AsyncAPI's shape.
    helper = APISpec(title="events", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    converter = helper.plugins[0].converter
    channels, messages, schemas = {}, {}, {}
    for service, event in published():
        payload = converter.schema2jsonschema(event.schema)
        schemas[f"{event.name}Payload"] = payload
        messages[event.name] = {
            "name": event.name,
            "title": event.name,
            "summary": event.summary,
            "contentType": "application/json",
            "headers": {"type": "object", "properties": {"nameko.correlation_id": {"type": "string"}}},
            "payload": {
                "type": "object",
                "required": ["event_id", "event_type", "version", "occurred_at", "payload"],
                "properties": {
                    "event_id": {"type": "string", "description": "unique; consumers deduplicate on it"},
                    "event_type": {"type": "string", "const": event.name},
                    "version": {"type": "integer", "const": event.version},
                    "occurred_at": {"type": "string", "format": "date-time"},
                    "province": {"type": ["string", "null"], "description": "the tenant the fact belongs to"},
                    "correlation_id": {"type": ["string", "null"]},
                    "payload": {"$ref": f"#/components/schemas/{event.name}Payload"},
                },
            },
        }
        channels[f"{service}.events/{event.name}"] = {
            "address": event.name,
            "description": f"Topic exchange `{service}.events`, routing key `{event.name}`.",
            "messages": {event.name: {"$ref": f"#/components/messages/{event.name}"}},
            "bindings": {"amqp": {"is": "routingKey",
                                  "exchange": {"name": f"{service}.events", "type": "topic", "durable": True},
                                  "bindingVersion": "0.3.0"}},
        }
    operations = {
        f"receive{event.name}": {"action": "receive", "channel": {"$ref": f"#/channels/{service}.events~1{event.name}"},
                                 "summary": event.summary}
        for service, event in published()
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Khademyar events", "version": "1.0.0",
                 "description": "Every fact another party may care about. Delivery is at least once: "
                                "deduplicate on event_id."},
        "servers": {"rabbitmq": {"host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0-9-1"}},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
