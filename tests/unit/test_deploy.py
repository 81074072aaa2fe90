"""Offline checks of what deploys Khademyar: the image, docker-compose.yml, and the Prometheus/Grafana config.

Nothing here needs Docker: compose is validated against the vendored Compose Specification schema, the
entrypoint runs with a fake `nameko` on PATH, and the image's healthcheck command runs against a local server.
"""
import importlib
import json
import os
import re
import shlex
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
IMAGE_ENTRYPOINT = "/app/deploy/entrypoint.sh"

# The services are the packages under services/ with a service.py: a new one must be deployed to pass.
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/service.py"))
PROCESSES = [*SERVICES, "gateway"]
BUILD = {"context": ".", "dockerfile": "deploy/Dockerfile"}


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def compose():
    return load_yaml(ROOT / "docker-compose.yml")


@pytest.fixture(scope="module")
def prometheus():
    return load_yaml(DEPLOY / "prometheus" / "prometheus.yml")


@pytest.fixture(scope="module")
def rules():
    groups = load_yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_services_are_found():
    # Guards the glob above: if it found nothing, every "for each service" check would pass vacuously.
    assert {"membership", "catalog", "reservation", "reporting", "shrine", "desk"} <= set(SERVICES)


# ---- docker-compose.yml ----------------------------------------------------------------------------------------

def compose_validator():
    with open(DEPLOY / "compose-spec.json", encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema, default=None)
    assert cls is jsonschema.Draft201909Validator, "compose-spec.json should declare JSON Schema draft 2019-09"
    cls.check_schema(schema)
    return cls(schema)


def test_compose_follows_the_compose_specification(compose):
    errors = sorted(compose_validator().iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
    assert "version" not in compose, "the top-level `version` key is obsolete in the Compose Specification"


def test_the_vendored_schema_rejects_an_invalid_compose_file(compose):
    # A schema that accepts anything would make the test above pass on any file.
    broken = json.loads(json.dumps(compose))
    broken["services"]["gateway"]["comand"] = ["gateway"]
    assert not compose_validator().is_valid(broken)


def test_every_process_runs_from_the_one_dockerfile(compose):
    services = compose["services"]
    built = {name for name, svc in services.items() if "build" in svc}
    assert built == set(PROCESSES), "exactly the gateway and the services are built from deploy/Dockerfile"
    for name in PROCESSES:
        svc = services[name]
        assert svc["build"] == BUILD, name
        assert svc["command"] == [name], f"{name} must run its own process"
        assert "image" not in svc or svc["image"].startswith("khademyar"), name
        for dependency in ("rabbitmq", "postgres"):
            assert svc["depends_on"][dependency] == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    assert (ROOT / BUILD["context"] / BUILD["dockerfile"]).is_file()


def config_variables():
    """The environment variables config.yml reads (`${NAME:default}`)."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):", (ROOT / "config.yml").read_text(encoding="utf-8")))


def test_every_process_gets_the_whole_configuration(compose):
    variables = config_variables()
    assert {"AMQP_URI", "DATABASE_URL", "METRICS_PORT", "WEB_SERVER_ADDRESS", "JWT_SECRET"} <= variables
    for name in PROCESSES:
        env = compose["services"][name]["environment"]
        assert isinstance(env, dict), f"{name}: environment as a mapping"
        missing = variables - set(env)
        assert not missing, f"{name} does not set {sorted(missing)} (config.yml's defaults are for development)"
        assert re.fullmatch(r"amqp://.*@rabbitmq:5672/.*", env["AMQP_URI"]), name
        assert re.fullmatch(r"postgresql://.*@postgres:5432/\w+", env["DATABASE_URL"]), name
        assert env["WEB_SERVER_ADDRESS"].startswith("0.0.0.0:"), f"{name} must listen on every interface"
        assert int(env["METRICS_PORT"]) > 0, f"{name} must expose its metrics"


def published(svc):
    """{container port: host port} of a service's short-syntax `ports`."""
    pairs = (str(p).rsplit(":", 2)[-2:] for p in svc.get("ports", []))
    return {int(container): int(host) for host, container in pairs}


def test_broker_database_and_monitoring(compose):
    services = compose["services"]
    assert services["rabbitmq"]["image"] == "rabbitmq:3.13-management"
    assert services["postgres"]["image"] == "postgres:15"
    for name in ("rabbitmq", "postgres"):
        assert services[name]["healthcheck"]["test"], f"{name} needs a healthcheck for service_healthy"
    assert services["prometheus"]["image"].startswith("prom/prometheus")
    assert services["grafana"]["image"].startswith("grafana/grafana")
    assert any(v.split(":")[:2] == ["./deploy/prometheus", "/etc/prometheus"]
               for v in services["prometheus"]["volumes"])
    assert any(v.split(":")[:2] == ["./deploy/grafana/provisioning", "/etc/grafana/provisioning"]
               for v in services["grafana"]["volumes"])


def test_published_ports(compose):
    services = compose["services"]
    gateway_port = int(services["gateway"]["environment"]["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
    assert published(services["gateway"]) == {gateway_port: 8000}
    assert published(services["prometheus"]).get(9090) == 9090
    assert published(services["grafana"]).get(3000) == 3000
    for name in SERVICES:
        assert not published(services[name]), f"{name} is reached through the broker, not published"


def test_grafana_uses_the_compose_prometheus(compose):
    provisioned = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    [source] = [d for d in provisioned["datasources"] if d["type"] == "prometheus"]
    assert source["url"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]
    assert source.get("isDefault") is True


# ---- Prometheus ----------------------------------------------------------------------------------------------

def test_every_process_is_scraped_and_nothing_else(compose, prometheus):
    expected = set()
    for name in PROCESSES:
        env = compose["services"][name]["environment"]
        # The gateway serves /metrics on its HTTP port; a service on METRICS_PORT.
        port = env["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1] if name == "gateway" else env["METRICS_PORT"]
        expected.add(f"{name}:{int(port)}")
    scraped = set()
    for job in prometheus["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        assert job.get("scrape_interval", "15s") == "15s", job["job_name"]
        for static in job["static_configs"]:
            scraped.update(static["targets"])
    assert scraped == expected
    assert prometheus["global"]["scrape_interval"] == "15s"


def test_prometheus_loads_the_alert_rules(compose, prometheus):
    files = prometheus["rule_files"]
    assert "alerts.yml" in files
    for name in files:
        # Relative paths resolve against prometheus.yml's directory, mounted whole in compose.
        assert (DEPLOY / "prometheus" / name).is_file(), name


def test_every_alert_rule_is_complete(rules):
    import promql_parser  # dev dependency: parses PromQL as Prometheus would

    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "alert names must be unique"
    for rule in rules:
        name = rule["alert"]
        promql_parser.parse(rule["expr"])  # raises ValueError on a syntax error
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"].strip(), name
        assert rule["annotations"]["description"].strip(), name


def metric_names():
    """Every series name kit/metrics.py can export (histograms as _bucket, _sum and _count)."""
    sources = [ROOT / "kit" / "metrics.py", *sorted((ROOT / "services").glob("*/service.py"))]
    source = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    names = set()
    for kind, name in re.findall(r'\b(Counter|Gauge|Histogram)\(\s*"(khademyar_\w+)"', source):
        if kind == "Counter":
            names.add(name if name.endswith("_total") else name + "_total")
        elif kind == "Histogram":
            names.update(name + suffix for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(name)
    return names


def test_alerts_watch_our_metrics(rules):
    exported = metric_names()
    assert "khademyar_http_requests_total" in exported  # the parser above found the kit's metrics
    used = {m for rule in rules for m in re.findall(r"\bkhademyar_\w+", rule["expr"])}
    assert not used - exported, f"alerts on metrics nobody exports: {sorted(used - exported)}"

    def rules_on(metric):
        return [rule for rule in rules if re.search(rf"\b{metric}\b", rule["expr"])]

    for metric in ("khademyar_http_requests_total", "khademyar_http_request_duration_seconds_bucket",
                   "khademyar_outbox_lag_seconds", "khademyar_dead_letter_messages",
                   "khademyar_overdue_applications"):
        assert rules_on(metric), f"no alert on {metric}"
    assert any('status=~"5.."' in rule["expr"] for rule in rules_on("khademyar_http_requests_total"))
    assert any("0.99" in rule["expr"] for rule in rules_on("khademyar_http_request_duration_seconds_bucket"))
    assert all(rule["labels"]["severity"] == "info" for rule in rules_on("khademyar_overdue_applications"))
    assert any(re.fullmatch(r"\s*up\s*==\s*0\s*", rule["expr"]) for rule in rules)


# ---- the entrypoint --------------------------------------------------------------------------------------------

@pytest.fixture
def fake_nameko(tmp_path):
    """An environment whose `nameko` prints its pid, working directory and arguments instead of running."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    nameko = bin_dir / "nameko"
    nameko.write_text('#!/bin/sh\necho "pid=$$"\necho "cwd=$(pwd -P)"\necho "args=$*"\n')
    nameko.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_entrypoint(env, *args):
    proc = subprocess.Popen([str(ENTRYPOINT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd="/")
    out, err = proc.communicate(timeout=30)
    return proc, out, err


def test_entrypoint_is_an_executable_script():
    assert ENTRYPOINT.stat().st_mode & stat.S_IXUSR, "chmod +x deploy/entrypoint.sh (git keeps the mode)"
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")


@pytest.mark.parametrize("name", PROCESSES)
def test_entrypoint_execs_nameko_for_each_process(fake_nameko, name):
    proc, out, err = run_entrypoint(fake_nameko, name)
    assert proc.returncode == 0, err
    lines = dict(line.split("=", 1) for line in out.splitlines())
    command, _, target = lines["args"].rpartition(" ")
    assert command == "run --config config.yml"
    # module:Class, and the class is the service of that name (a bare module would make nameko also pick up
    # the classes it imports, like ServiceBase, and refuse to start).
    module, _, cls = target.partition(":")
    assert module == ("gateway.service" if name == "gateway" else f"services.{name}.service")
    assert getattr(importlib.import_module(module), cls).name == name
    assert Path(lines["cwd"]) == ROOT, "nameko must run from the project root, where config.yml is"
    assert int(lines["pid"]) == proc.pid, "the entrypoint must exec nameko (PID 1 gets the signals)"


@pytest.mark.parametrize("args", [(), ("",), ("nope",), ("kit",), ("Gateway",), ("services.membership.service",),
                                  ("membership;id",), ("../gateway",), ("gateway", "membership")])
def test_entrypoint_refuses_anything_else(fake_nameko, args):
    proc, out, err = run_entrypoint(fake_nameko, *args)
    assert proc.returncode != 0
    assert "args=" not in out, "nameko must not run"
    assert "usage" in err


# ---- the Dockerfile --------------------------------------------------------------------------------------------

def dockerfile_stages():
    """The Dockerfile as stages, each a list of (INSTRUCTION, arguments), continuations joined, comments dropped."""
    stages, current = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker drops comment lines, also inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        instruction, _, args = (current + line).partition(" ")
        current = ""
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), args.strip()))
    return stages


def copy_sources(args):
    parts = [p for p in shlex.split(args) if not p.startswith("--")]
    return [p.rstrip("/") for p in parts[:-1]], parts[-1]


def test_dockerfile_builds_a_slim_multi_stage_non_root_image():
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: build leftovers stay out of the runtime image"
    for stage in stages:
        assert stage[0][1].split()[0] == "python:3.11-slim"
    assert any(i == "RUN" and re.search(r"pip install --no-cache-dir \.(\s|$)", a) for i, a in stages[0])
    runtime = stages[-1]
    assert any(i == "COPY" and a.startswith("--from=") for i, a in runtime), "runtime takes the built virtualenv"
    users = [a for i, a in runtime if i == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the image must not run as root"
    assert any(i == "HEALTHCHECK" for i, _ in runtime)
    copied = {src for i, a in runtime if i == "COPY" and not a.startswith("--from=") for src in copy_sources(a)[0]}
    assert {"config.yml", "data", "services", "gateway", "kit"} <= copied


def test_dockerfile_entrypoint_is_the_script():
    runtime = dockerfile_stages()[-1]
    entrypoints = [a for i, a in runtime if i == "ENTRYPOINT"]
    assert entrypoints and json.loads(entrypoints[-1]) == [IMAGE_ENTRYPOINT]
    # ... and the script is copied to exactly that path (relative destinations resolve against WORKDIR).
    workdir, destinations = "/", set()
    for instruction, args in runtime:
        if instruction == "WORKDIR":
            workdir = os.path.join(workdir, args)
        elif instruction == "COPY":
            sources, dest = copy_sources(args)
            if "deploy/entrypoint.sh" in sources or "deploy" in sources:
                dest = os.path.normpath(os.path.join(workdir, dest))
                destinations.add(dest if dest.endswith("entrypoint.sh") else f"{dest}/entrypoint.sh")
    assert IMAGE_ENTRYPOINT in destinations


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_server():
    """Starts local HTTP servers in subprocesses, each answering 200 on one path and 404 elsewhere."""
    code = ("import http.server as h, sys\n"
            "class H(h.BaseHTTPRequestHandler):\n"
            "    def do_GET(self):\n"
            "        self.send_response(200 if self.path == sys.argv[2] else 404); self.end_headers()\n"
            "    def log_message(self, *a): pass\n"
            "h.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n")
    servers = []

    def start(path):
        port = free_port()
        servers.append(subprocess.Popen([sys.executable, "-c", code, str(port), path]))
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                assert time.monotonic() < deadline, "test server did not start"
                time.sleep(0.05)

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=10)


def run_healthcheck(web_port, metrics_port):
    """Runs the image's HEALTHCHECK command as Docker would (sh -c), with the image's ENV and these ports."""
    runtime = dockerfile_stages()[-1]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for instruction, args in runtime:
        if instruction == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(args))
    [healthcheck] = [a for i, a in runtime if i == "HEALTHCHECK"]
    command = healthcheck.split(" CMD ", 1)[1]
    env.update(PATH=f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
               WEB_SERVER_ADDRESS=f"0.0.0.0:{web_port}", METRICS_PORT=str(metrics_port))
    return subprocess.run(["sh", "-c", command], env=env, timeout=30).returncode


def test_healthcheck_probes_the_gateway_or_the_service_metrics(http_server):
    healthz, metrics, closed = http_server("/healthz"), http_server("/metrics"), free_port()
    assert run_healthcheck(web_port=healthz, metrics_port=0) == 0, "the gateway answering /healthz is healthy"
    assert run_healthcheck(web_port=closed, metrics_port=metrics) == 0, "a service answering /metrics is healthy"
    assert run_healthcheck(web_port=closed, metrics_port=closed) == 1, "nothing answering is unhealthy"
    assert run_healthcheck(web_port=metrics, metrics_port=healthz) == 1, "an answer other than 200 is unhealthy"
