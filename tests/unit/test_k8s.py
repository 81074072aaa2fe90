"""Offline checks of the Kubernetes manifests in deploy/k8s/ (no cluster, no kubectl, no kustomize binary).

1. A small pure-Python renderer of the kustomize subset the tree uses (resources, namespace, labels, images,
   patches: strategic merge or JSON 6902, with or without a target). It refuses every other kustomization field,
   so the tree cannot start using a feature these tests would silently ignore. It is stricter than kustomize in
   one way: a patch that matches nothing is an error.
2. Every rendered built-in object is validated against the Kubernetes OpenAPI schemas bundled by
   kubernetes-validate, in strict mode (unknown fields are errors). The two custom resources, RabbitmqCluster
   (rabbitmq.com/v1beta1) and CloudNativePG's Cluster (postgresql.cnpg.io/v1), are validated against small JSON
   schemas written here from the operators' Go types: their top-level spec fields (unknown ones are errors), the
   types of the fields we use, and what we require of them. They are not the operators' full CRD schemas.
3. Invariants: probes, resources, non-root and read-only containers; one Deployment per process of
   docker-compose.yml and the reverse; the environment is exactly what config.yml reads; the autoscalers, budgets
   and Services point at what exists; the database connection budget fits max_connections; the credentials agree
   with the broker and database objects; the migration Job's own command migrates every service.

Each invariant is a function returning a list of problems; the `*_catches_*` tests break a copy of the rendered
manifests and require the function to notice, so that no check passes vacuously.
"""
import copy
import glob
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE, PRODUCTION, SECRETS = K8S / "base", K8S / "overlays" / "production", K8S / "secrets"

SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/service.py"))
PROCESSES = [*SERVICES, "gateway"]
STORM = ("gateway", "shrine")  # the processes that take the booking storm: a higher autoscaling ceiling
SENSITIVE = {"AMQP_URI", "DATABASE_URL", "JWT_SECRET", "KHADEMYAR_ADMIN_PASSWORD"}
IMAGE = "khademyar"  # the name containers use in the base; the overlay's `images` rewrites it
MIN_K8S = "1.29"  # the oldest Kubernetes the manifests must be valid for (and the newest kubernetes-validate has)
CONNECTION_RESERVE = 20  # superuser_reserved_connections, the replicas' streaming, the operator, psql sessions
PLACEHOLDER = "CHANGE-ME"


# ==== the kustomize subset =====================================================================================

class KustomizeError(Exception):
    pass


KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}
BUILTIN_API_VERSIONS = {"v1", "apps/v1", "batch/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1",
                        "rbac.authorization.k8s.io/v1"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                  "CustomResourceDefinition", "PriorityClass"}
# patchMergeKey of the list fields we may patch (k8s.io/api); other lists are replaced, as kustomize does.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
              "volumes": "name", "volumeMounts": "mountPath", "imagePullSecrets": "name"}
TEMPLATED = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def load_documents(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def inside(root, relative):
    """A file a kustomization may load: inside its own directory (kustomize's default load restriction)."""
    path = (root / relative).resolve()
    if root.resolve() not in path.parents:
        raise KustomizeError(f"{relative}: outside {root} (kustomize refuses files outside the kustomization root)")
    return path


def render(directory):
    """The objects `kustomize build directory` would output, for the subset of kustomize described above."""
    directory = Path(directory)
    [kfile] = [directory / n for n in ("kustomization.yaml", "kustomization.yml", "Kustomization")
               if (directory / n).is_file()] or [None]
    if kfile is None:
        raise KustomizeError(f"{directory}: no kustomization.yaml")
    [k] = load_documents(kfile)
    if (k.get("apiVersion"), k.get("kind")) != ("kustomize.config.k8s.io/v1beta1", "Kustomization"):
        raise KustomizeError(f"{kfile}: not a kustomize.config.k8s.io/v1beta1 Kustomization")
    unknown = set(k) - KUSTOMIZATION_FIELDS
    if unknown:
        raise KustomizeError(f"{kfile}: {sorted(unknown)} not supported by this renderer (extend it and its tests)")
    objects = []
    for entry in k.get("resources", []):
        if (directory / entry).is_dir():
            objects += render(directory / entry)
        elif (directory / entry).is_file():
            objects += load_documents(inside(directory, entry))
        else:
            raise KustomizeError(f"{kfile}: resource {entry} does not exist")
    for patch in k.get("patches", []):
        apply_patch(objects, patch, directory)
    if "namespace" in k:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = k["namespace"]
    for label in k.get("labels", []):
        apply_labels(objects, label)
    for image in k.get("images", []):
        apply_image(objects, image)
    ids = [identity(o) for o in objects]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise KustomizeError(f"{kfile}: objects defined twice: {sorted(duplicates)}")
    return objects


def identity(obj):
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def group_of(api_version):
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def selected(obj, target):
    unknown = set(target) - {"group", "version", "kind", "name", "namespace", "labelSelector"}
    if unknown:
        raise KustomizeError(f"patch target fields {sorted(unknown)} not supported")
    api = obj["apiVersion"]
    if "group" in target and target["group"] != group_of(api):
        return False
    if "version" in target and target["version"] != api.rpartition("/")[2]:
        return False
    if "kind" in target and target["kind"] != obj["kind"]:
        return False
    if "name" in target and target["name"] != obj["metadata"]["name"]:
        return False
    if "namespace" in target and target["namespace"] != obj["metadata"].get("namespace"):
        return False
    if "labelSelector" in target:
        labels = obj["metadata"].get("labels") or {}
        for term in target["labelSelector"].split(","):
            match = re.fullmatch(r"\s*([\w./-]+)\s*==?\s*([\w.-]*)\s*", term)
            if not match:
                raise KustomizeError(f"label selector {term!r}: only key=value terms are supported")
            if labels.get(match[1]) != match[2]:
                return False
    return True


def apply_patch(objects, patch, directory):
    unknown = set(patch) - {"path", "patch", "target"}
    if unknown or ("path" in patch) == ("patch" in patch):
        raise KustomizeError(f"patch {patch}: exactly one of path/patch, and optionally target")
    if "path" in patch:
        docs = load_documents(inside(directory, patch["path"]))
    else:
        docs = [d for d in yaml.safe_load_all(patch["patch"]) if d is not None]
    target = patch.get("target")
    if len(docs) == 1 and isinstance(docs[0], list):  # a JSON 6902 patch: a list of operations
        if target is None:
            raise KustomizeError(f"JSON 6902 patch {patch}: needs a target")
        hits = [o for o in objects if selected(o, target)]
        if not hits:
            raise KustomizeError(f"patch {patch}: matches nothing")
        for obj in hits:
            for op in docs[0]:
                json6902(obj, op)
        return
    for doc in docs:  # strategic merge patches
        if not isinstance(doc, dict):
            raise KustomizeError(f"patch {patch}: neither a JSON 6902 list nor an object")
        aim = target or {"kind": doc["kind"], "name": doc["metadata"]["name"]}
        hits = [o for o in objects if selected(o, aim)]
        if not hits:
            raise KustomizeError(f"patch {patch}: matches nothing")
        for obj in hits:
            builtin = obj["apiVersion"] in BUILTIN_API_VERSIONS
            merged = strategic_merge(obj, {k: v for k, v in doc.items() if k not in ("apiVersion", "kind")},
                                     builtin)
            if target is not None:
                merged["metadata"]["name"] = obj["metadata"]["name"]
            obj.clear()
            obj.update(merged)


def strategic_merge(original, patch, builtin, field=None):
    """Strategic merge for built-in kinds (lists with a patchMergeKey merge by it), JSON merge patch otherwise
    (what kustomize does for a kind whose OpenAPI schema it lacks: the operators' custom resources)."""
    if isinstance(patch, dict):
        for key in patch:
            if key.startswith("$"):
                raise KustomizeError(f"strategic merge directive {key} not supported")
        result = dict(original) if isinstance(original, dict) else {}
        for key, value in patch.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = strategic_merge(result.get(key), value, builtin, key)
        return result
    if isinstance(patch, list) and builtin and isinstance(original, list) and merge_key(field, patch):
        key = merge_key(field, patch)
        result = [copy.deepcopy(item) for item in original]
        for item in patch:
            for i, existing in enumerate(result):
                if existing.get(key) == item.get(key):
                    result[i] = strategic_merge(existing, item, builtin)
                    break
            else:
                result.append(copy.deepcopy(item))
        return result
    return copy.deepcopy(patch)


def merge_key(field, items):
    if field == "ports":  # container ports merge by containerPort, a Service's by port
        return "containerPort" if all("containerPort" in i for i in items) else "port"
    return MERGE_KEYS.get(field)


def pointer(path):
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer {path!r} must start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json6902(obj, op):
    """RFC 6902 add, remove, replace (what the tree uses)."""
    kind = op.get("op")
    if kind not in ("add", "remove", "replace"):
        raise KustomizeError(f"JSON 6902 op {kind!r} not supported")
    *parents, last = pointer(op["path"])
    node = obj
    for part in parents:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            raise KustomizeError(
                f"{op['path']}: {part} does not exist in {obj['kind']}/{obj['metadata']['name']}") from None
    if isinstance(node, list):
        if kind == "add" and last == "-":
            node.append(copy.deepcopy(op["value"]))
            return
        index = int(last)
        if not (0 <= index < len(node) + (kind == "add")):
            raise KustomizeError(f"{op['path']}: index out of range")
        if kind == "add":
            node.insert(index, copy.deepcopy(op["value"]))
        elif kind == "remove":
            del node[index]
        else:
            node[index] = copy.deepcopy(op["value"])
        return
    if kind in ("remove", "replace") and last not in node:
        raise KustomizeError(f"{op['path']}: nothing to {kind} in {obj['kind']}/{obj['metadata']['name']}")
    if kind == "remove":
        del node[last]
    else:
        node[last] = copy.deepcopy(op["value"])


def apply_labels(objects, label):
    unknown = set(label) - {"pairs", "includeSelectors", "includeTemplates"}
    if unknown or label.get("includeSelectors"):
        raise KustomizeError(f"labels entry {label}: only pairs, includeTemplates and includeSelectors: false")
    for obj in objects:
        obj["metadata"].setdefault("labels", {}).update(label["pairs"])
        if label.get("includeTemplates") and obj["kind"] in TEMPLATED:
            obj["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])


def split_image(image):
    name, _, digest = image.partition("@")
    tag = ""
    if ":" in name.rpartition("/")[2]:
        name, _, tag = name.rpartition(":")
    return name, tag, digest


def apply_image(objects, entry):
    unknown = set(entry) - {"name", "newName", "newTag", "digest"}
    if unknown:
        raise KustomizeError(f"images entry {entry}: {sorted(unknown)} not supported")

    def visit(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("containers", "initContainers") and isinstance(value, list):
                    for container in value:
                        name, tag, digest = split_image(container.get("image", ""))
                        if name == entry["name"]:
                            name = entry.get("newName", name)
                            if "digest" in entry:
                                container["image"] = f"{name}@{entry['digest']}"
                            else:
                                tag = entry.get("newTag", tag)
                                container["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
                else:
                    visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(objects)


# ==== fixtures and helpers =====================================================================================

@pytest.fixture(scope="module")
def base():
    return render(BASE)


@pytest.fixture(scope="module")
def production():
    return render(PRODUCTION)


@pytest.fixture(scope="module")
def secrets():
    return render(SECRETS)


@pytest.fixture(scope="module")
def compose():
    with open(ROOT / "docker-compose.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(params=["base", "production"])
def tree(request):
    """Each deployable tree, with the Secrets applied beside it (as on a cluster)."""
    return render(BASE if request.param == "base" else PRODUCTION) + render(SECRETS)


def of_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def named(objects, kind, name):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found[0] if found else None


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def pod_labels(obj):
    return obj["spec"]["template"].get("metadata", {}).get("labels", {})


def workloads(objects):
    return of_kind(objects, "Deployment") + of_kind(objects, "Job")


def config_variables():
    """The environment variables config.yml reads (`${NAME:default}`)."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):", (ROOT / "config.yml").read_text(encoding="utf-8")))


def config_values(objects):
    """{name: value} of the ConfigMap and Secrets the Khademyar containers load."""
    values = {}
    for obj in of_kind(objects, "ConfigMap"):
        values.update(obj.get("data", {}))
    for obj in of_kind(objects, "Secret"):
        values.update(obj.get("stringData", {}))
    return values


def hpas_by_target(objects):
    out = {}
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        out.setdefault(hpa["spec"]["scaleTargetRef"]["name"], []).append(hpa)
    return out


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


QUANTITY = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?")


def cpu(quantity):
    q = str(quantity)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def mem(quantity):
    q = str(quantity)
    for suffix, factor in (("Ki", 2**10), ("Mi", 2**20), ("Gi", 2**30), ("Ti", 2**40)):
        if q.endswith(suffix):
            return float(q[:-2]) * factor
    return float(q)


# ==== the renderer itself ======================================================================================

def test_the_services_are_found():
    assert {"membership", "catalog", "reservation", "reporting", "shrine", "desk"} <= set(SERVICES)


def test_every_tree_renders(base, production, secrets):
    for objects in (base, production, secrets):
        assert objects
        for obj in objects:
            assert obj["apiVersion"] and obj["kind"] and obj["metadata"]["name"], obj
            if obj["kind"] not in CLUSTER_SCOPED:
                assert obj["metadata"]["namespace"] == "khademyar", identity(obj)
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "khademyar", identity(obj)


def write_tree(root, files):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: "web:1", env: [{name: A, value: "1"}, {name: B, value: "2"}]}
        - {name: side, image: "registry.local:5000/side:2"}
"""
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def test_renderer_merges_patches_like_kustomize(tmp_path):
    write_tree(tmp_path, {
        "base/kustomization.yaml": KUSTOMIZATION + "resources: [deployment.yaml]\n",
        "base/deployment.yaml": DEPLOYMENT,
        "overlay/kustomization.yaml": KUSTOMIZATION + """namespace: prod
labels: [{pairs: {team: t}, includeSelectors: false, includeTemplates: true}]
resources: [../base]
images: [{name: web, newName: reg/web, newTag: "2"}]
patches:
  - path: smp.yaml
  - target: {kind: Deployment, labelSelector: tier=front}
    patch: |-
      - {op: replace, path: /spec/template/spec/containers/1/image, value: "other:3"}
      - {op: add, path: /spec/template/spec/containers/0/env/-, value: {name: D, value: "4"}}
""",
        "overlay/smp.yaml": """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
        - {name: web, env: [{name: B, value: "20"}, {name: C, value: "3"}]}
""",
    })
    [web] = render(tmp_path / "overlay")
    containers = pod_spec(web)["containers"]
    assert [c["name"] for c in containers] == ["web", "side"], "containers merge by name"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "20"},
                                    {"name": "C", "value": "3"}, {"name": "D", "value": "4"}]
    assert containers[0]["image"] == "reg/web:2" and containers[1]["image"] == "other:3"
    assert web["metadata"]["namespace"] == "prod"
    assert web["metadata"]["labels"] == {"tier": "front", "team": "t"}
    assert pod_labels(web) == {"app": "web", "team": "t"} and web["spec"]["selector"] == {"matchLabels": {"app": "web"}}


@pytest.mark.parametrize("kustomization, files, message", [
    ("resources: [d.yaml]\nreplicas: [{name: web, count: 2}]\n", {}, "not supported"),
    ("resources: [../outside.yaml]\n", {}, "outside"),
    ("resources: [d.yaml]\npatches: [{target: {kind: Deployment, name: nope}, patch: '[{op: remove, path: /spec}]'}]\n",
     {}, "matches nothing"),
    ("resources: [d.yaml]\npatches: [{target: {kind: Deployment}, patch: '[{op: replace, path: /spec/nope, value: 1}]'}]\n",
     {}, "nothing to replace"),
    ("resources: [d.yaml]\npatches: [{path: p.yaml}]\n",
     {"p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {$patch: replace}\n"},
     "not supported"),
    ("resources: [d.yaml, d.yaml]\n", {}, "defined twice"),
])
def test_renderer_refuses_what_it_does_not_do(tmp_path, kustomization, files, message):
    (tmp_path / "outside.yaml").write_text(DEPLOYMENT)
    write_tree(tmp_path, {"k/kustomization.yaml": KUSTOMIZATION + kustomization, "k/d.yaml": DEPLOYMENT,
                          **{f"k/{n}": t for n, t in files.items()}})
    with pytest.raises(KustomizeError, match=message):
        render(tmp_path / "k")


# ==== schemas ==================================================================================================

def kubernetes_validate():
    return pytest.importorskip("kubernetes_validate", reason="dev dependency: pip install kubernetes-validate==1.37.0")


def crd_schemas():
    """Small schemas of the two custom resources (see the module docstring), with Kubernetes' own definitions
    for the core types they embed (resources, affinity)."""
    kv = kubernetes_validate()
    from referencing import Registry, Resource
    latest = kv.utils.latest_version()
    definitions = kv.utils.schema_contents(f"kubernetes-json-schema/v{latest}-local-strict/_definitions.json",
                                           latest)
    registry = Resource.from_contents(definitions) @ Registry()
    core = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.api.core.v1."
    quantity = {"type": "string", "pattern": "^" + QUANTITY.pattern + "$"}
    metadata = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}
    strings = {"type": "object", "additionalProperties": {"type": "string"}}
    rabbitmq = {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "rabbitmq.com/v1beta1"}, "kind": {"const": "RabbitmqCluster"},
            "metadata": metadata,
            "spec": {
                "type": "object", "additionalProperties": False,
                "required": ["replicas", "image", "persistence", "resources", "rabbitmq"],
                "properties": {
                    "replicas": {"type": "integer", "minimum": 0},
                    "image": {"type": "string", "minLength": 1},
                    "imagePullSecrets": {"type": "array"},
                    "service": {"type": "object", "additionalProperties": False, "properties": {
                        "type": {"enum": ["ClusterIP", "LoadBalancer", "NodePort"]}, "annotations": strings}},
                    "persistence": {"type": "object", "additionalProperties": False, "required": ["storage"],
                                    "properties": {"storageClassName": {"type": "string"}, "storage": quantity}},
                    "resources": {"$ref": core + "ResourceRequirements"},
                    "affinity": {"$ref": core + "Affinity"},
                    "tolerations": {"type": "array", "items": {"$ref": core + "Toleration"}},
                    "rabbitmq": {"type": "object", "additionalProperties": False, "properties": {
                        "additionalPlugins": {"type": "array", "maxItems": 100,
                                              "items": {"type": "string", "pattern": r"^\w+$", "maxLength": 100}},
                        "additionalConfig": {"type": "string", "maxLength": 2000},
                        "advancedConfig": {"type": "string", "maxLength": 100000},
                        "envConfig": {"type": "string", "maxLength": 100000}}},
                    "tls": {"type": "object"}, "override": {"type": "object"}, "secretBackend": {"type": "object"},
                    "skipPostDeploySteps": {"type": "boolean"},
                    "terminationGracePeriodSeconds": {"type": "integer", "minimum": 0},
                }}}}
    storage = {"type": "object", "additionalProperties": False, "required": ["size"], "properties": {
        "size": quantity, "storageClass": {"type": "string"}, "resizeInUseVolumes": {"type": "boolean"},
        "pvcTemplate": {"type": "object"}}}
    cnpg = {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "postgresql.cnpg.io/v1"}, "kind": {"const": "Cluster"}, "metadata": metadata,
            "spec": {
                "type": "object", "additionalProperties": False, "required": ["instances", "storage", "bootstrap"],
                "properties": {
                    "description": {"type": "string"},
                    "imageName": {"type": "string", "minLength": 1},
                    "imagePullPolicy": {"enum": ["Always", "Never", "IfNotPresent"]},
                    "instances": {"type": "integer", "minimum": 1},
                    "minSyncReplicas": {"type": "integer", "minimum": 0},
                    "maxSyncReplicas": {"type": "integer", "minimum": 0},
                    "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
                    "primaryUpdateMethod": {"enum": ["switchover", "restart"]},
                    "enableSuperuserAccess": {"type": "boolean"},
                    "superuserSecret": {"type": "object", "required": ["name"]},
                    "postgresql": {"type": "object", "properties": {"parameters": strings,
                                                                    "pg_hba": {"type": "array"}}},
                    "bootstrap": {"type": "object", "additionalProperties": False, "properties": {
                        "initdb": {"type": "object", "additionalProperties": False,
                                   "required": ["database", "owner", "secret"], "properties": {
                                       "database": {"type": "string", "minLength": 1},
                                       "owner": {"type": "string", "minLength": 1},
                                       "secret": {"type": "object", "additionalProperties": False,
                                                  "required": ["name"], "properties": {"name": {"type": "string"}}},
                                       "postInitSQL": {"type": "array", "items": {"type": "string"}},
                                       "postInitApplicationSQL": {"type": "array", "items": {"type": "string"}},
                                       "encoding": {"type": "string"}, "localeCollate": {"type": "string"},
                                       "localeCType": {"type": "string"}, "dataChecksums": {"type": "boolean"}}},
                        "recovery": {"type": "object"}, "pg_basebackup": {"type": "object"}}},
                    "storage": storage, "walStorage": storage,
                    "resources": {"$ref": core + "ResourceRequirements"},
                    "affinity": {"type": "object", "additionalProperties": False, "properties": {
                        "enablePodAntiAffinity": {"type": "boolean"}, "topologyKey": {"type": "string"},
                        "podAntiAffinityType": {"enum": ["preferred", "required"]},
                        "nodeSelector": strings, "tolerations": {"type": "array"},
                        "nodeAffinity": {"type": "object"}, "additionalPodAntiAffinity": {"type": "object"},
                        "additionalPodAffinity": {"type": "object"}}},
                    "monitoring": {"type": "object"}, "backup": {"type": "object"},
                    "externalClusters": {"type": "array"}, "managed": {"type": "object"},
                    "certificates": {"type": "object"}, "inheritedMetadata": {"type": "object"},
                    "topologySpreadConstraints": {"type": "array"}, "priorityClassName": {"type": "string"},
                    "plugins": {"type": "array"}, "enablePDB": {"type": "boolean"},
                }}}}
    return {(o["properties"]["apiVersion"]["const"], o["properties"]["kind"]["const"]):
            jsonschema.Draft202012Validator(o, registry=registry) for o in (rabbitmq, cnpg)}


def schema_problems(objects):
    kv = kubernetes_validate()
    customs = crd_schemas()
    problems = []
    for obj in objects:
        name = "/".join(identity(obj))
        key = (obj["apiVersion"], obj["kind"])
        if key in customs:
            problems += [f"{name}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
                         for e in customs[key].iter_errors(obj)]
            continue
        for version in (MIN_K8S, kv.utils.latest_version()):
            try:
                kv.validate(obj, version, strict=True)
            except kv.ValidationError as e:
                problems.append(f"{name} (Kubernetes {version}): {'.'.join(map(str, e.path))}: {e.message}")
            except kv.SchemaNotFoundError as e:
                problems.append(f"{name}: {e.message}")
    return problems


def test_every_object_follows_its_schema(tree):
    problems = schema_problems(tree)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind, break_it", [
    ("Deployment", lambda o: pod_spec(o)["containers"][0].update(imagePullPolcy="Always")),  # a typo
    ("HorizontalPodAutoscaler", lambda o: o["spec"].update(maxReplicas="ten")),
    ("Service", lambda o: o["spec"]["ports"][0].update(prot="TCP")),
    ("RabbitmqCluster", lambda o: o["spec"].update(replica=3)),
    ("RabbitmqCluster", lambda o: o["spec"]["persistence"].update(storage="20 GB")),
    ("Cluster", lambda o: o["spec"].pop("instances")),
    ("Cluster", lambda o: o["spec"]["bootstrap"]["initdb"].update(owner=None)),
    ("Cluster", lambda o: o["spec"]["resources"].update(limit={"cpu": "1"})),
])
def test_schemas_catch_a_broken_object(base, kind, break_it):
    broken = copy.deepcopy(base)
    break_it(of_kind(broken, kind)[0])
    assert schema_problems(broken)


def test_a_kind_without_schema_is_a_problem():
    assert schema_problems([{"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}}])


# ==== invariants ===============================================================================================

def container_problems(objects):
    """Probes, resources, non-root, read-only root file system, no capabilities, no API token."""
    problems = []
    for obj in workloads(objects):
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        spec = pod_spec(obj)
        pod_security = spec.get("securityContext", {})
        if pod_security.get("runAsNonRoot") is not True or pod_security.get("runAsUser", 0) == 0:
            problems.append(f"{name}: the pod must run as a non-root uid (runAsNonRoot, runAsUser)")
        if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: seccompProfile RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: no service account token (nothing here calls the Kubernetes API)")
        if obj["kind"] == "Deployment" and not matches(obj["spec"]["selector"].get("matchLabels"), pod_labels(obj)):
            problems.append(f"{name}: the selector does not match the pod template's labels")
        for c in spec["containers"] + spec.get("initContainers", []):
            where = f"{name}/{c['name']}"
            security = c.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation: false")
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem: true")
            if security.get("privileged") or security.get("runAsUser") == 0 or security.get("runAsNonRoot") is False:
                problems.append(f"{where}: privileged or root")
            if "ALL" not in security.get("capabilities", {}).get("drop", []) or security.get("capabilities", {}).get("add"):
                problems.append(f"{where}: drop ALL capabilities and add none")
            resources = c.get("resources", {})
            for section in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    value = resources.get(section, {}).get(resource)
                    if value is None or not QUANTITY.fullmatch(str(value)):
                        problems.append(f"{where}: {section}.{resource} missing or not a quantity: {value!r}")
            try:
                if cpu(resources["requests"]["cpu"]) > cpu(resources["limits"]["cpu"]) or \
                        mem(resources["requests"]["memory"]) > mem(resources["limits"]["memory"]):
                    problems.append(f"{where}: a request above its limit")
            except (KeyError, ValueError):
                pass
            if obj["kind"] != "Deployment":
                continue
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                spec_ = c.get(probe)
                if not spec_:
                    problems.append(f"{where}: no {probe}")
                    continue
                action = spec_.get("httpGet") or spec_.get("tcpSocket")
                if not action:
                    problems.append(f"{where}: {probe} is neither httpGet nor tcpSocket")
                    continue
                port = action["port"]
                if port not in ports and port not in ports.values():
                    problems.append(f"{where}: {probe} probes port {port}, which the container does not declare")
    return problems


def probe_problems(objects):
    """The gateway answers /healthz and /readyz on its web port; a service answers /metrics on METRICS_PORT."""
    problems = []
    values = config_values(objects)
    web_port = int(values.get("WEB_SERVER_ADDRESS", ":0").rsplit(":", 1)[1])
    metrics_port = int(values.get("METRICS_PORT", 0))
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        [c] = pod_spec(deployment)["containers"]
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}

        def target(probe, c=c, ports=ports):
            action = c.get(probe, {}).get("httpGet") or c.get(probe, {}).get("tcpSocket") or {}
            return action.get("path"), ports.get(action.get("port"), action.get("port"))

        if name == "gateway":
            expected = {"livenessProbe": ("/healthz", web_port), "readinessProbe": ("/readyz", web_port)}
        else:
            expected = {p: ("/metrics", metrics_port) for p in ("startupProbe", "livenessProbe", "readinessProbe")}
        for probe, (path, port) in expected.items():
            got_path, got_port = target(probe)
            if got_port != port or got_path not in (path, None):
                problems.append(f"{name}: {probe} should probe {path} on {port}, probes {got_path} on {got_port}")
    return problems


def compose_problems(objects, compose):
    """One Deployment per process docker-compose.yml builds from deploy/Dockerfile and the reverse, each
    running its own part of the one image; the broker and database of compose have their counterparts."""
    problems = []
    built = {name: svc for name, svc in compose["services"].items() if "build" in svc}
    deployments = {d["metadata"]["name"]: d for d in of_kind(objects, "Deployment")}
    if set(built) != set(deployments):
        problems.append(f"compose builds {sorted(built)}, Kubernetes deploys {sorted(deployments)}")
    if set(PROCESSES) != set(deployments):
        problems.append(f"the processes are {sorted(PROCESSES)}, Kubernetes deploys {sorted(deployments)}")
    images = set()
    for name, deployment in deployments.items():
        [c] = pod_spec(deployment)["containers"]
        images.add(split_image(c["image"])[0])
        if c.get("args") != [name] or (name in built and built[name].get("command") != c.get("args")):
            problems.append(f"{name}: args {c.get('args')} (compose: {built.get(name, {}).get('command')})")
        if "command" in c:
            problems.append(f"{name}: must keep the image's entrypoint (it checks the part's name)")
    for job in of_kind(objects, "Job"):
        images.update(split_image(c["image"])[0] for c in pod_spec(job)["containers"])
    if len(images) != 1:
        problems.append(f"one image for every process and the Job, found {sorted(images)}")
    rabbit = compose["services"].get("rabbitmq", {}).get("image", "")
    clusters = of_kind(objects, "RabbitmqCluster")
    if not clusters or not clusters[0]["spec"]["image"].startswith(rabbit.split(":")[0] + ":" +
                                                                   rabbit.split(":")[1].split("-")[0]):
        problems.append(f"no RabbitmqCluster on the version of compose's {rabbit}")
    postgres = compose["services"].get("postgres", {}).get("image", "")
    databases = of_kind(objects, "Cluster")
    major = postgres.split(":")[1].split(".")[0]
    if not databases or not re.search(rf":{major}(\.|$|-)", databases[0]["spec"].get("imageName", "")):
        problems.append(f"no CloudNativePG Cluster on the major version of compose's {postgres}")
    return problems


def env_problems(objects):
    """Every Khademyar container sets exactly the variables config.yml reads; the secret ones from a Secret."""
    problems = []
    expected = config_variables()
    maps = {o["metadata"]["name"]: set(o.get("data", {})) for o in of_kind(objects, "ConfigMap")}
    secrets = {o["metadata"]["name"]: set(o.get("stringData", {})) | set(o.get("data", {}))
               for o in of_kind(objects, "Secret")}
    for obj in workloads(objects):
        for c in pod_spec(obj)["containers"]:
            where = f"{obj['metadata']['name']}/{c['name']}"
            names, from_secrets = [], set()
            for source in c.get("envFrom", []):
                if "configMapRef" in source:
                    ref = source["configMapRef"]["name"]
                    if ref not in maps:
                        problems.append(f"{where}: ConfigMap {ref} does not exist")
                    names += sorted(maps.get(ref, ()))
                if "secretRef" in source:
                    ref = source["secretRef"]["name"]
                    if ref not in secrets:
                        problems.append(f"{where}: Secret {ref} does not exist")
                    names += sorted(secrets.get(ref, ()))
                    from_secrets |= secrets.get(ref, set())
            for var in c.get("env", []):
                names.append(var["name"])
                if "secretKeyRef" in var.get("valueFrom", {}):
                    from_secrets.add(var["name"])
            duplicated = sorted({n for n in names if names.count(n) > 1})
            if duplicated:
                problems.append(f"{where}: {duplicated} set twice (which wins is easy to get wrong)")
            if set(names) != expected:
                problems.append(f"{where}: missing {sorted(expected - set(names))}, "
                                f"not read by config.yml {sorted(set(names) - expected)}")
            if SENSITIVE - from_secrets:
                problems.append(f"{where}: {sorted(SENSITIVE - from_secrets)} must come from a Secret")
    return problems


def scaling_problems(objects):
    """Autoscalers aim at Deployments that exist, one each, CPU-based; the storm processes reach higher;
    budgets keep a pod up; no Deployment fights its autoscaler over `replicas`."""
    problems = []
    deployments = {d["metadata"]["name"]: d for d in of_kind(objects, "Deployment")}
    by_target = hpas_by_target(objects)
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        ref, spec = hpa["spec"]["scaleTargetRef"], hpa["spec"]
        if (ref.get("apiVersion"), ref["kind"]) != ("apps/v1", "Deployment") or ref["name"] not in deployments:
            problems.append(f"HPA {hpa['metadata']['name']} targets {ref}, which does not exist")
        if not any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu" for m in spec.get("metrics", [])):
            problems.append(f"HPA {hpa['metadata']['name']}: no CPU metric")
        if spec.get("minReplicas", 1) < 2 or spec["maxReplicas"] < spec.get("minReplicas", 1):
            problems.append(f"HPA {hpa['metadata']['name']}: at least 2 replicas, max >= min")
    for name, deployment in deployments.items():
        if len(by_target.get(name, [])) != 1:
            problems.append(f"{name}: {len(by_target.get(name, []))} autoscalers, not one")
        if "replicas" in deployment["spec"]:
            problems.append(f"{name}: `replicas` would reset the autoscaler's count on every apply")
        budgets = [p for p in of_kind(objects, "PodDisruptionBudget")
                   if matches(p["spec"]["selector"].get("matchLabels"), pod_labels(deployment))]
        if len(budgets) != 1 or budgets[0]["spec"].get("maxUnavailable") != 1:
            problems.append(f"{name}: one PodDisruptionBudget with maxUnavailable: 1")
    top = {n: by_target[n][0]["spec"]["maxReplicas"] for n in deployments if len(by_target.get(n, [])) == 1}
    for storm in STORM:
        others = [m for n, m in top.items() if n not in STORM]
        if storm in top and others and top[storm] <= max(others):
            problems.append(f"{storm}: its maximum ({top[storm]}) must exceed the other services' ({max(others)})")
    return problems


def service_problems(objects):
    """Each Service and budget selects pods that exist, on ports they declare; the gateway and every service's
    metrics have a Service."""
    problems = []
    pods = [(pod_labels(d), pod_spec(d)) for d in of_kind(objects, "Deployment")]
    for service in of_kind(objects, "Service"):
        name = service["metadata"]["name"]
        hits = [spec for labels, spec in pods if matches(service["spec"].get("selector"), labels)]
        if not hits:
            problems.append(f"Service {name} selects no pods")
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for spec in hits:
                declared = {p.get("name") for c in spec["containers"] for p in c.get("ports", [])} | \
                           {p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])}
                if target not in declared:
                    problems.append(f"Service {name}: targetPort {target} is not a port of its pods")
    operator_pods = {f"app.kubernetes.io/name={c['metadata']['name']}" for c in of_kind(objects, "RabbitmqCluster")}
    for budget in of_kind(objects, "PodDisruptionBudget"):
        selector = budget["spec"]["selector"].get("matchLabels", {})
        if not any(matches(selector, labels) for labels, _ in pods) and \
                {f"{k}={v}" for k, v in selector.items()} - operator_pods:
            problems.append(f"PodDisruptionBudget {budget['metadata']['name']} selects no pods")
    gateway = named(objects, "Service", "gateway")
    if gateway is None or gateway["spec"]["selector"] != {"app.kubernetes.io/name": "gateway"}:
        problems.append("no Service `gateway` for the gateway's pods")
    metrics_port = int(config_values(objects).get("METRICS_PORT", 0))
    for name in SERVICES:
        service = named(objects, "Service", f"{name}-metrics")
        if service is None or service["spec"]["ports"][0]["port"] != metrics_port:
            problems.append(f"no Service {name}-metrics on port {metrics_port} for Prometheus")
    return problems


def connection_budget(objects):
    """The most PostgreSQL connections the services can open: each service process has a pool of DB_POOL_SIZE
    plus as many overflow connections (kit/db.py), the migration Job a pool of 1 (+1), plus a reserve."""
    pool = int(config_values(objects)["DB_POOL_SIZE"])
    by_target = hpas_by_target(objects)
    pods = sum(by_target[name][0]["spec"]["maxReplicas"] for name in SERVICES if name in by_target)
    return pods * 2 * pool + 2 * len(of_kind(objects, "Job")) + CONNECTION_RESERVE


def infrastructure_problems(objects):
    """The broker and database objects, and the credentials the processes use to reach them, agree."""
    problems = []
    values = config_values(objects)
    [rabbit] = of_kind(objects, "RabbitmqCluster") or [None]
    [postgres] = of_kind(objects, "Cluster") or [None]
    if rabbit is None or postgres is None:
        return ["no RabbitmqCluster or no CloudNativePG Cluster"]
    if rabbit["spec"]["replicas"] != 3:
        problems.append("RabbitMQ: a three-node cluster")
    config = rabbit["spec"].get("rabbitmq", {}).get("additionalConfig", "")
    if not re.search(r"(?m)^\s*default_queue_type\s*=\s*quorum\s*$", config):
        problems.append("RabbitMQ: default_queue_type = quorum")
    version = re.search(r":(\d+)\.(\d+)\.(\d+)", rabbit["spec"]["image"])
    if not version or tuple(map(int, version.groups())) < (3, 13, 3):
        problems.append("RabbitMQ: a pinned image >= 3.13.3 (the first with default_queue_type in rabbitmq.conf)")
    spec = postgres["spec"]
    initdb = spec.get("bootstrap", {}).get("initdb", {})
    if spec["instances"] != 3:
        problems.append("PostgreSQL: three instances")
    if not any(re.fullmatch(rf"ALTER ROLE {initdb.get('owner')} (WITH )?CREATEDB", s.strip(), re.I)
               for s in initdb.get("postInitSQL", [])):
        problems.append("PostgreSQL: the owner needs CREATEDB (each service creates its own database)")
    if spec.get("maxSyncReplicas", 0) >= spec["instances"] or spec.get("minSyncReplicas", 0) > spec.get(
            "maxSyncReplicas", 0):
        problems.append("PostgreSQL: minSyncReplicas <= maxSyncReplicas < instances")
    budget = connection_budget(objects)
    limit = int(spec.get("postgresql", {}).get("parameters", {}).get("max_connections", 100))
    if budget > limit:
        problems.append(f"PostgreSQL: up to {budget} connections, max_connections is {limit}")
    amqp = urlsplit(values.get("AMQP_URI", ""))
    if (amqp.scheme, amqp.hostname, amqp.port) != ("amqp", rabbit["metadata"]["name"], 5672):
        problems.append(f"AMQP_URI must reach the RabbitmqCluster's Service {rabbit['metadata']['name']}:5672")
    database = urlsplit(values.get("DATABASE_URL", ""))
    owner = named(objects, "Secret", initdb.get("secret", {}).get("name", ""))
    if (database.scheme, database.hostname, database.port) != (
            "postgresql", f"{postgres['metadata']['name']}-rw", 5432):
        problems.append(f"DATABASE_URL must reach the primary, {postgres['metadata']['name']}-rw:5432")
    if database.username != initdb.get("owner") or database.path != f"/{initdb.get('database')}":
        problems.append("DATABASE_URL: the bootstrap's owner and database")
    if owner is None or owner.get("type") != "kubernetes.io/basic-auth" or \
            owner.get("stringData", {}).get("username") != initdb.get("owner") or \
            owner.get("stringData", {}).get("password") != database.password:
        problems.append("the owner's Secret (basic-auth) must hold the owner and the password in DATABASE_URL")
    return problems


INVARIANTS = [container_problems, probe_problems, env_problems, scaling_problems, service_problems,
              infrastructure_problems]


@pytest.mark.parametrize("check", INVARIANTS, ids=lambda f: f.__name__)
def test_invariants_hold(tree, check):
    problems = check(tree)
    assert not problems, "\n".join(problems)


def test_compose_and_kubernetes_run_the_same_processes(tree, compose):
    problems = compose_problems(tree, compose)
    assert not problems, "\n".join(problems)


def first_container(name):
    return lambda objs: pod_spec(named(objs, "Deployment", name))["containers"][0]


def drop_object(kind, name):
    def drop(objs):
        objs.remove(named(objs, kind, name))
    return drop


def config_map(objs):
    return named(objs, "ConfigMap", "khademyar-config")["data"]


def secret(name):
    return lambda objs: named(objs, "Secret", name)["stringData"]


def spec_of(kind, name=None):
    return lambda objs: (named(objs, kind, name) if name else of_kind(objs, kind)[0])["spec"]


def job_pod(objs):
    return pod_spec(of_kind(objs, "Job")[0])


BREAKAGES = [
    (container_problems, "no liveness probe", lambda o: first_container("shrine")(o).pop("livenessProbe")),
    (container_problems, "probe on an undeclared port",
     lambda o: first_container("desk")(o)["readinessProbe"]["httpGet"].update(port="web")),
    (container_problems, "no memory limit",
     lambda o: first_container("catalog")(o)["resources"]["limits"].pop("memory")),
    (container_problems, "not a quantity",
     lambda o: first_container("catalog")(o)["resources"]["requests"].update(memory="256MB")),
    (container_problems, "request above limit",
     lambda o: first_container("desk")(o)["resources"]["requests"].update(cpu="2")),
    (container_problems, "root",
     lambda o: pod_spec(named(o, "Deployment", "gateway"))["securityContext"].update(runAsUser=0)),
    (container_problems, "writable root",
     lambda o: first_container("membership")(o)["securityContext"].update(readOnlyRootFilesystem=False)),
    (container_problems, "a capability",
     lambda o: first_container("reporting")(o)["securityContext"]["capabilities"].update(add=["NET_ADMIN"])),
    (container_problems, "the Job as root", lambda o: job_pod(o)["securityContext"].pop("runAsNonRoot")),
    (container_problems, "selector",
     lambda o: spec_of("Deployment", "desk")(o)["selector"]["matchLabels"].update({"app.kubernetes.io/name": "desc"})),
    (probe_problems, "gateway readiness on /healthz",
     lambda o: first_container("gateway")(o)["readinessProbe"]["httpGet"].update(path="/healthz")),
    (probe_problems, "a service probing the gateway's port",
     lambda o: first_container("shrine")(o)["livenessProbe"].update(httpGet={"path": "/metrics", "port": 8000})),
    (env_problems, "a variable config.yml does not read",
     lambda o: first_container("shrine")(o).setdefault("env", []).append({"name": "SHRINE_FAIR_WINDOW", "value": "1"})),
    (env_problems, "a variable missing", lambda o: config_map(o).pop("LOG_LEVEL")),
    (env_problems, "a secret in the ConfigMap",
     lambda o: (config_map(o).update(JWT_SECRET="x"), secret("khademyar-secrets")(o).pop("JWT_SECRET"))),
    (env_problems, "the Job without the Secret", lambda o: job_pod(o)["containers"][0]["envFrom"].pop()),
    (scaling_problems, "HPA aiming at nothing",
     lambda o: spec_of("HorizontalPodAutoscaler", "desk")(o)["scaleTargetRef"].update(name="dsk")),
    (scaling_problems, "a Deployment without HPA", drop_object("HorizontalPodAutoscaler", "catalog")),
    (scaling_problems, "replicas set", lambda o: spec_of("Deployment", "reporting")(o).update(replicas=2)),
    (scaling_problems, "shrine no higher", lambda o: spec_of("HorizontalPodAutoscaler", "shrine")(o).update(
        maxReplicas=spec_of("HorizontalPodAutoscaler", "desk")(o)["maxReplicas"])),
    (scaling_problems, "no budget", drop_object("PodDisruptionBudget", "membership")),
    (service_problems, "Service selecting nothing",
     lambda o: spec_of("Service", "gateway")(o)["selector"].update({"app.kubernetes.io/name": "gw"})),
    (service_problems, "Service on an undeclared port",
     lambda o: spec_of("Service", "shrine-metrics")(o)["ports"][0].update(targetPort="http")),
    (service_problems, "no metrics Service", drop_object("Service", "reservation-metrics")),
    (infrastructure_problems, "a single RabbitMQ node", lambda o: spec_of("RabbitmqCluster")(o).update(replicas=1)),
    (infrastructure_problems, "classic queues",
     lambda o: spec_of("RabbitmqCluster")(o)["rabbitmq"].update(additionalConfig="")),
    (infrastructure_problems, "no CREATEDB",
     lambda o: spec_of("Cluster")(o)["bootstrap"]["initdb"].update(postInitSQL=[])),
    (infrastructure_problems, "too few connections",
     lambda o: spec_of("Cluster")(o)["postgresql"]["parameters"].update(max_connections="100")),
    (infrastructure_problems, "password drift", lambda o: secret("khademyar-db-owner")(o).update(password="other")),
    (infrastructure_problems, "DATABASE_URL at a replica", lambda o: secret("khademyar-secrets")(o).update(
        DATABASE_URL="postgresql://khademyar:CHANGE-ME-db-password@khademyar-db-ro:5432/khademyar")),
    (infrastructure_problems, "AMQP_URI elsewhere",
     lambda o: secret("khademyar-secrets")(o).update(AMQP_URI="amqp://u:p@rabbitmq:5672/")),
]


@pytest.mark.parametrize("check, what, break_it", BREAKAGES, ids=[f"{c.__name__}: {w}" for c, w, _ in BREAKAGES])
def test_invariants_catch_a_breakage(base, secrets, check, what, break_it):
    broken = copy.deepcopy(base + secrets)
    assert not check(broken), "the unbroken manifests must pass first"
    break_it(broken)
    assert check(broken), f"{check.__name__} did not notice: {what}"


@pytest.mark.parametrize("what, break_it", [
    ("a process without Deployment", drop_object("Deployment", "desk")),
    ("another command", lambda o: first_container("catalog")(o).update(args=["catalogue"])),
    ("a second image", lambda o: first_container("shrine")(o).update(image="shrine:1")),
    ("the entrypoint replaced", lambda o: first_container("desk")(o).update(command=["nameko"])),
    ("another PostgreSQL major", lambda o: of_kind(o, "Cluster")[0]["spec"].update(imageName="postgres:16.4")),
])
def test_compose_check_catches_a_breakage(base, compose, what, break_it):
    broken = copy.deepcopy(base)
    break_it(broken)
    assert compose_problems(broken, compose), what


def test_compose_check_catches_a_process_only_compose_has(base, compose):
    extra = copy.deepcopy(compose)
    extra["services"]["notifier"] = {**extra["services"]["desk"], "command": ["notifier"]}
    assert compose_problems(base, extra)


# ==== the overlay, the Secrets, the migration Job ==============================================================

def test_production_pins_the_image_and_scales_up(base, production):
    for obj in workloads(production):
        for c in pod_spec(obj)["containers"]:
            name, tag, digest = split_image(c["image"])
            assert "/" in name, f"{obj['metadata']['name']}: the production image comes from a registry"
            assert digest or (tag and tag != "latest"), f"{obj['metadata']['name']}: a pinned tag or digest"
    for hpa in of_kind(base, "HorizontalPodAutoscaler"):
        prod = named(production, "HorizontalPodAutoscaler", hpa["metadata"]["name"])
        assert prod["spec"]["maxReplicas"] >= hpa["spec"]["maxReplicas"]
        assert prod["spec"].get("minReplicas", 1) >= hpa["spec"].get("minReplicas", 1)
    assert named(production, "HorizontalPodAutoscaler", "shrine")["spec"]["maxReplicas"] > \
        named(base, "HorizontalPodAutoscaler", "shrine")["spec"]["maxReplicas"]
    for deployment in of_kind(base, "Deployment"):
        [b] = pod_spec(deployment)["containers"]
        [p] = pod_spec(named(production, "Deployment", deployment["metadata"]["name"]))["containers"]
        assert cpu(p["resources"]["requests"]["cpu"]) > cpu(b["resources"]["requests"]["cpu"])
        assert mem(p["resources"]["limits"]["memory"]) > mem(b["resources"]["limits"]["memory"])
    for kind in ("RabbitmqCluster", "Cluster"):
        assert of_kind(production, kind)[0]["spec"]["resources"] != of_kind(base, kind)[0]["spec"]["resources"]


def test_deploys_never_carry_secrets(base, production, secrets):
    # The Secrets are applied once, separately: a deploy must not overwrite real values with placeholders.
    assert not of_kind(base, "Secret") and not of_kind(production, "Secret")
    assert {s["metadata"]["name"] for s in of_kind(secrets, "Secret")} == {"khademyar-secrets", "khademyar-db-owner"}


def test_placeholders_are_clearly_marked(secrets):
    for secret in of_kind(secrets, "Secret"):
        assert secret["metadata"]["annotations"]["khademyar/placeholder"] == "true"
        assert "data" not in secret, "placeholders in stringData, readable"
        for key, value in secret["stringData"].items():
            if key != "username":
                assert PLACEHOLDER in value, f"{secret['metadata']['name']}.{key} is not marked {PLACEHOLDER}"


def migration_command(objects):
    [job] = of_kind(objects, "Job")
    [c] = pod_spec(job)["containers"]
    assert c["command"][0] == "python", "the image's python (PATH=/opt/venv/bin)"
    return [sys.executable, *c["command"][1:], *c["args"]]


def test_the_migration_job_migrates_every_service(base, tmp_path):
    """Runs the Job's own command as the image would (from the project root), on SQLite files."""
    from alembic.script import ScriptDirectory

    from kit.migrate import alembic_config

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/khademyar.db", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(migration_command(base), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [w for name in SERVICES for w in ("migrated", name)]
    import sqlite3
    for name in SERVICES:
        heads = ScriptDirectory.from_config(alembic_config(str(ROOT / "services" / name / "migrations"))).get_heads()
        with sqlite3.connect(tmp_path / f"khademyar_{name}.db") as db:
            assert [r[0] for r in db.execute("SELECT version_num FROM alembic_version")] == heads, name


def test_the_migration_job_refuses_to_run_elsewhere(base, tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run(migration_command(base), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "run from the project root" in done.stderr
    assert not glob.glob(str(tmp_path / "*.db"))


def test_catalog_documents_are_shared(base):
    """The catalog keeps offer documents as files under var/documents: every replica must see the same ones."""
    [c] = pod_spec(named(base, "Deployment", "catalog"))["containers"]
    [mount] = [m for m in c["volumeMounts"] if m["mountPath"] == "/app/var/documents"]
    [volume] = [v for v in pod_spec(named(base, "Deployment", "catalog"))["volumes"] if v["name"] == mount["name"]]
    claim = named(base, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    source = (ROOT / "services" / "catalog" / "service.py").read_text(encoding="utf-8")
    assert 'DEFAULT_DOCUMENTS_DIR = os.path.join("var", "documents")' in source, "the mount follows the code"


def test_rendered_manifests_are_json_serialisable(base, production, secrets):
    # What `kubectl apply` sends: YAML-only types (dates, anchors' aliases are fine) would not survive.
    for obj in base + production + secrets:
        json.dumps(obj)
