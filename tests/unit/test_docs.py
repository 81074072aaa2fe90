"""docs/architecture.md stays true: every event published or consumed in the code is in its table."""
import os
import re

from gateway.asyncapi import published

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def test_every_published_event_is_in_the_architecture_table():
    doc = read("docs/architecture.md")
    missing = [event.name for _, event in published() if not re.search(rf"\b{event.name}\b", doc)]
    assert not missing, f"docs/architecture.md does not mention {missing}"


def test_every_consumed_event_is_drawn_with_its_consumer():
    doc = read("docs/architecture.md")
    for service in ("catalog", "reservation", "reporting", "shrine", "desk"):
        source = read(f"services/{service}/service.py")
        for publisher, event in re.findall(r'@on_event\("(\w+)", "(\w+)"', source):
            edge = rf"^\s*{publisher} -[-.] .*\b{event}\b.* [-.]-?> {service}\s*$"
            assert re.search(edge, doc, re.M), f"no arrow {publisher} -- {event} --> {service} in the diagram"
