"""Write docs/openapi.json and docs/asyncapi.json from the code (`make docs`); a test keeps them current."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def render():
    from gateway.asyncapi import document as asyncapi
    from gateway.openapi import document as openapi
    return {"openapi.json": openapi(), "asyncapi.json": asyncapi()}


def dumps(doc):
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    for name, doc in render().items():
        with open(os.path.join(ROOT, "docs", name), "w", encoding="utf-8") as f:
            f.write(dumps(doc))
        print(f"wrote docs/{name}")
