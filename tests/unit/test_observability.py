"""Offline checks of what watches Khademyar: the Prometheus alert rules and the Grafana dashboards.

Every query (alert expressions, dashboard targets) is parsed as Prometheus would (promql-parser) and must name
only series the code exports, with labels those series have and label values the code produces (services,
entrypoints, gateway routes, expected error classes). The exported series are read from prometheus_client's
registry after importing kit.metrics, the gateway and every service module, so a metric renamed in the code
breaks this test, not the dashboard in production. Each checker is itself tested on broken queries.
"""
import importlib
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
DASHBOARD_PROVISIONING = DEPLOY / "grafana" / "provisioning" / "dashboards"
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources"

SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/service.py"))
PROMETHEUS_LABELS = {"job", "instance"}  # added to every series by the scrape
# What Grafana substitutes before sending a query (values only need to parse).
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h", "$service": ".*"}
TIMELINESS = {"on_time", "late"}


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


# ==== what the code exports ====================================================================================

def metric_objects():
    """The prometheus_client metrics (Counter, Gauge, Histogram, ...) the processes register, by name."""
    from prometheus_client import REGISTRY
    from prometheus_client.metrics import MetricWrapperBase

    for module in ["kit.metrics", "gateway.service", *(f"services.{name}.service" for name in SERVICES)]:
        importlib.import_module(module)
    return {m._name: m for m in set(REGISTRY._names_to_collectors.values())
            if isinstance(m, MetricWrapperBase) and m._name.startswith("khademyar_")}


def exported_series():
    """{series name: set of label names} for every khademyar_* series the processes can expose, plus `up`."""
    series = {"up": set()}
    for name, metric in metric_objects().items():
        labels = set(metric._labelnames)
        if metric._type == "counter":
            series[name + "_total"] = labels
        elif metric._type == "histogram":
            series[name + "_bucket"] = labels | {"le"}
            series[name + "_sum"] = series[name + "_count"] = labels
        elif metric._type == "gauge":
            series[name] = labels
        else:
            raise AssertionError(f"{name}: teach this test the series of a {metric._type}")
    return series


def gauges():
    return {name for name, metric in metric_objects().items() if metric._type == "gauge"}


def entrypoint_kinds():
    """{service: {method: kind}}: the label values kit.metrics.Metrics records (`type(entrypoint).__name__.lower()`)."""
    out = {}
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.service")
        [cls] = [c for c in vars(module).values() if isinstance(c, type) and getattr(c, "name", None) == name
                 and c.__module__ == module.__name__]
        out[name] = {attr: type(e).__name__.lower() for attr in dir(cls)
                     for e in getattr(getattr(cls, attr), "nameko_entrypoints", ())}
    return out


def gateway_routes():
    """{path: {methods}} of the gateway: the `route` and `method` labels of khademyar_http_*."""
    from gateway.service import Gateway
    routes = {}
    for attr in dir(Gateway):
        for e in getattr(getattr(Gateway, attr), "nameko_entrypoints", ()):
            if hasattr(e, "path"):
                routes.setdefault(e.path, set()).add(e.method)
    return routes


def expected_errors():
    from kit.errors import EXPECTED
    return {cls.__name__ for cls in EXPECTED}


@pytest.fixture(scope="module")
def known():
    return {"series": exported_series(), "entrypoints": entrypoint_kinds(), "routes": gateway_routes(),
            "expected": expected_errors(), "gauges": gauges()}


def test_the_code_exports_what_the_checks_rely_on(known):
    # Guards the collection above: an empty registry would make every check below pass vacuously.
    for name in ("khademyar_http_requests_total", "khademyar_http_request_duration_seconds_bucket",
                 "khademyar_entrypoint_requests_total", "khademyar_entrypoint_errors_total",
                 "khademyar_entrypoint_duration_seconds_bucket", "khademyar_outbox_lag_seconds",
                 "khademyar_dead_letter_messages", "khademyar_overdue_applications", "khademyar_desk_late_tickets",
                 "khademyar_desk_tickets_delivered_total"):
        assert name in known["series"], name
    assert known["entrypoints"]["shrine"]["book"] == "rpc"
    assert "POST" in known["routes"]["/api/v1/shrine/shifts/<id>/bookings"]
    assert {"NotFound", "Conflict"} <= known["expected"]
    source = (ROOT / "services" / "desk" / "service.py").read_text(encoding="utf-8")
    assert '"on_time" if on_time else "late"' in source, "the timeliness label values changed: update TIMELINESS"


# ==== the query checker ========================================================================================

def substitute(expr):
    for name, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(name, value)
    return expr


def value_problems(matchers, known):
    """Label values the code can produce, for the labels whose values we know."""
    import promql_parser as pp
    problems = []
    equal = {m.name: m.value for m in matchers if m.op == pp.MatchOp.Equal}
    for m in matchers:
        if "$" in m.value:
            continue
        if m.name == "service" and m.op == pp.MatchOp.Equal and m.value not in SERVICES:
            problems.append(f"service={m.value!r} is not a service")
        if m.name == "entrypoint" and m.op == pp.MatchOp.Equal:
            scope = [equal["service"]] if equal.get("service") in SERVICES else SERVICES
            if not any(m.value in known["entrypoints"][s] for s in scope):
                problems.append(f"entrypoint={m.value!r} is not an entrypoint of {scope}")
        if m.name == "kind" and m.op == pp.MatchOp.Equal:
            kinds = {k for methods in known["entrypoints"].values() for k in methods.values()}
            if m.value not in kinds:
                problems.append(f"kind={m.value!r}: the kinds are {sorted(kinds)}")
        if m.name == "route" and m.op == pp.MatchOp.Equal:
            if m.value not in known["routes"]:
                problems.append(f"route={m.value!r} is not a gateway route")
            elif equal.get("method") and equal["method"] not in known["routes"][m.value]:
                problems.append(f"{equal['method']} {m.value} is not a gateway route")
        if m.name == "timeliness" and m.op == pp.MatchOp.Equal and m.value not in TIMELINESS:
            problems.append(f"timeliness={m.value!r}: the values are {sorted(TIMELINESS)}")
        if m.name == "error" and m.op in (pp.MatchOp.Re, pp.MatchOp.NotRe) and \
                set(m.value.split("|")) != known["expected"]:
            problems.append(f"error {m.op} {m.value!r}: must list exactly kit.errors.EXPECTED "
                            f"{sorted(known['expected'])}")
    return problems


def query_problems(expr, known, legend=None):
    """Problems of one PromQL query: syntax, series, labels, label values, how per-replica gauges aggregate."""
    import promql_parser as pp
    try:
        tree = pp.parse(substitute(expr))
    except ValueError as e:
        return [f"does not parse: {e}"]
    problems, selectors, aggregations, stack = [], [], [], []

    def pre(node):
        if isinstance(node, pp.AggregateExpr):
            aggregations.append(node)
            stack.append(str(node.op).rsplit(".", 1)[-1].lower())
        if isinstance(node, pp.VectorSelector):
            selectors.append((node, stack[-1] if stack else None))
        return True

    def post(node):
        if isinstance(node, pp.AggregateExpr):
            stack.pop()
        return True

    pp.walk(tree, pre, post)
    available = set(PROMETHEUS_LABELS)
    for selector, innermost in selectors:
        matchers = list(selector.matchers.matchers)
        name = selector.name or next((m.value for m in matchers if m.name == "__name__"), None)
        if name not in known["series"]:
            problems.append(f"{name}: no such series is exported")
            continue
        labels = known["series"][name] | PROMETHEUS_LABELS
        available |= labels
        for m in matchers:
            if m.name != "__name__" and m.name not in labels:
                problems.append(f"{name} has no label {m.name!r} (it has {sorted(labels)})")
        problems += [f"{name}: {p}" for p in value_problems(matchers, known)]
        if name in known["gauges"] and innermost not in ("max", "min"):
            problems.append(f"{name}: every replica samples the same gauge: aggregate it with max (or min) first, "
                            f"not {innermost or 'nothing'}")
    for aggregation in aggregations:
        modifier = aggregation.modifier
        if modifier is not None and str(modifier.type).endswith("By"):
            inner = []
            pp.walk(aggregation.expr, inner.append)  # append returns None: the walk goes on
            inner_labels = set(PROMETHEUS_LABELS)
            for node in inner:
                if isinstance(node, pp.VectorSelector) and node.name in known["series"]:
                    inner_labels |= known["series"][node.name]
            missing = set(modifier.labels) - inner_labels
            if missing:
                problems.append(f"grouped by {sorted(missing)}, which the series inside do not have")
    for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend or ""):
        if label not in available:
            problems.append(f"legend names {label!r}, which the query's series do not have")
    return problems


BROKEN_QUERIES = [
    ("a misspelt series", "rate(khademyar_http_request_total[5m])"),
    ("a histogram without its suffix", "rate(khademyar_http_request_duration_seconds[5m])"),
    ("_total on a gauge", "max(khademyar_desk_late_tickets_total)"),
    ("a label the series lacks", 'sum(rate(khademyar_http_requests_total{service="shrine"}[5m]))'),
    ("grouping by a missing label", "sum by (servce) (rate(khademyar_entrypoint_requests_total[5m]))"),
    ("a service that does not exist", 'sum(rate(khademyar_entrypoint_requests_total{service="shrines"}[5m]))'),
    ("an entrypoint of another service", 'sum(rate(khademyar_entrypoint_requests_total{service="desk", entrypoint="book"}[5m]))'),
    ("a kind that is never recorded", 'sum(rate(khademyar_entrypoint_requests_total{kind="event_handler"}[5m]))'),
    ("a route that does not exist", 'sum(rate(khademyar_http_requests_total{route="/api/v1/shrine/book"}[5m]))'),
    ("a method the route does not have",
     'sum(rate(khademyar_http_requests_total{method="PUT", route="/api/v1/shrine/shifts/<id>/bookings"}[5m]))'),
    ("an incomplete list of expected errors", 'sum(rate(khademyar_entrypoint_errors_total{error!~"NotFound|Conflict"}[5m]))'),
    ("a timeliness value never recorded", 'sum(rate(khademyar_desk_tickets_delivered_total{timeliness="ontime"}[5m]))'),
    ("a per-replica gauge summed", "sum by (province) (khademyar_overdue_applications)"),
    ("a per-replica gauge not aggregated", "khademyar_dead_letter_messages > 0"),
    ("a syntax error", "sum(rate(khademyar_http_requests_total[5m])"),
]


@pytest.mark.parametrize("what, expr", BROKEN_QUERIES, ids=[w for w, _ in BROKEN_QUERIES])
def test_the_checker_catches_a_broken_query(known, what, expr):
    assert query_problems(expr, known), what


def test_the_checker_catches_a_legend_on_a_missing_label(known):
    assert query_problems("sum by (service) (rate(khademyar_entrypoint_requests_total[5m]))", known, "{{servce}}")
    assert not query_problems("sum by (service) (rate(khademyar_entrypoint_requests_total[5m]))", known,
                              "{{service}}")


# ==== the alert rules ==========================================================================================

def alert_rules():
    return [r for group in load_yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"] for r in group["rules"]]


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_every_alert_queries_what_the_code_exports(known, rule):
    labels = re.findall(r"\$labels\.(\w+)", " ".join(rule["annotations"].values()))
    problems = query_problems(rule["expr"], known, " ".join(f"{{{{{label}}}}}" for label in labels))
    assert not problems, "\n".join(problems)


def test_alerts_cover_what_operations_watch():
    rules = alert_rules()

    def on(metric, severity=None):
        return [r for r in rules if re.search(rf"\b{metric}\b", r["expr"])
                and (severity is None or r["labels"]["severity"] == severity)]

    # Error ratio, at the gateway and per service.
    assert any('status=~"5.."' in r["expr"] and "/" in r["expr"] for r in on("khademyar_http_requests_total"))
    assert any("/" in r["expr"] for r in on("khademyar_entrypoint_errors_total"))
    # p99 latency, at the gateway, per service, and of the booking storm's path.
    for metric in ("khademyar_http_request_duration_seconds_bucket", "khademyar_entrypoint_duration_seconds_bucket"):
        assert any("histogram_quantile(0.99" in r["expr"] for r in on(metric)), metric
    assert any('entrypoint="book"' in r["expr"] for r in on("khademyar_entrypoint_duration_seconds_bucket"))
    # The event backbone, and the business signals (info: for the offices, not the on-call).
    for metric in ("khademyar_outbox_lag_seconds", "khademyar_dead_letter_messages",
                   "khademyar_events_dead_lettered_total"):
        assert on(metric), metric
    assert on("khademyar_outbox_lag_seconds", "critical"), "a stuck outbox pages someone"
    for metric in ("khademyar_overdue_applications", "khademyar_desk_late_tickets"):
        assert on(metric) and all(r["labels"]["severity"] == "info" for r in on(metric)), metric


def test_alerts_are_documented_in_operations():
    # docs/operations.md says what to do for each alert.
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = [r["alert"] for r in alert_rules() if f"`{r['alert']}`" not in text]
    assert not missing, f"docs/operations.md does not say what to do for {missing}"


# ==== the dashboards ===========================================================================================

def dashboards():
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(DASHBOARDS.glob("*.json"))}


def all_panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def dashboard_queries():
    return [(f"{file}: {panel['title']} [{target['refId']}]", target["expr"], target.get("legendFormat"))
            for file, dashboard in dashboards().items() for panel in all_panels(dashboard)
            for target in panel.get("targets", [])]


def datasource_uid():
    [source] = [d for f in sorted(DATASOURCES.glob("*.yml")) for d in load_yaml(f)["datasources"]
                if d["type"] == "prometheus"]
    return source["uid"]


def dashboard_problems(dashboard, known):
    """Grafana's own expectations of a provisioned dashboard, and our conventions."""
    problems = []
    for key in ("uid", "title", "schemaVersion", "panels"):
        if not dashboard.get(key):
            problems.append(f"no {key}")
    uid = datasource_uid()
    ids, cells = set(), {}
    for panel in all_panels(dashboard):
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            problems.append(f"{title}: id {panel.get('id')} used twice")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in "hwxy") or grid["x"] + grid["w"] > 24:
            problems.append(f"{title}: gridPos must be whole numbers within 24 columns")
            continue
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                if (x, y) in cells:
                    problems.append(f"{title}: overlaps {cells[(x, y)]}")
                    break
                cells[(x, y)] = title
            else:
                continue
            break
        if panel["type"] == "row":
            continue
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"{title}: no query")
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)):
            problems.append(f"{title}: refIds repeat")
        for source in [panel.get("datasource")] + [t.get("datasource") for t in targets]:
            if not source or source.get("uid") != uid:
                problems.append(f"{title}: datasource must be the provisioned Prometheus (uid {uid})")
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query", {})
        query = query.get("query", "") if isinstance(query, dict) else query
        match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query)
        if variable.get("type") == "query" and (not match or match[1] not in known["series"] or
                                                match[2] not in known["series"][match[1]]):
            problems.append(f"variable {variable.get('name')}: {query!r} is not label_values(<series>, <label>)")
    return problems


def test_there_is_a_dashboard():
    assert dashboards(), f"no dashboard JSON in {DASHBOARDS}"


@pytest.mark.parametrize("file", sorted(dashboards()))
def test_every_dashboard_is_valid(known, file):
    problems = dashboard_problems(dashboards()[file], known)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("where, expr, legend", dashboard_queries(), ids=[w for w, _, _ in dashboard_queries()])
def test_every_dashboard_query_names_what_the_code_exports(known, where, expr, legend):
    problems = query_problems(expr, known, legend)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("what, break_it", [
    ("a repeated panel id", lambda d: d["panels"][2].update(id=d["panels"][1]["id"])),
    ("overlapping panels", lambda d: d["panels"][2].update(gridPos=dict(d["panels"][1]["gridPos"]))),
    ("wider than the grid", lambda d: d["panels"][1]["gridPos"].update(x=20, w=8)),
    ("another datasource", lambda d: d["panels"][1]["targets"][0].update(datasource={"uid": "prom"})),
    ("a panel without query", lambda d: d["panels"][1].update(targets=[])),
    ("a variable on a missing label", lambda d: d["templating"]["list"][0].update(
        query={"query": "label_values(khademyar_http_requests_total, service)"})),
])
def test_the_dashboard_check_catches_a_breakage(known, what, break_it):
    dashboard = json.loads(json.dumps(next(iter(dashboards().values()))))
    assert not dashboard_problems(dashboard, known)
    break_it(dashboard)
    assert dashboard_problems(dashboard, known), what


def test_the_dashboard_shows_red_the_storm_and_the_desk():
    queries = " ".join(expr for _, expr, _ in dashboard_queries())
    for metric in ("khademyar_http_requests_total", "khademyar_http_request_duration_seconds_bucket",
                   "khademyar_entrypoint_requests_total", "khademyar_entrypoint_errors_total",
                   "khademyar_entrypoint_duration_seconds_bucket", "khademyar_outbox_lag_seconds",
                   "khademyar_dead_letter_messages"):
        assert metric in queries, f"RED / events: {metric}"
    assert 'service="shrine", entrypoint="book"' in queries, "the booking storm"
    assert 'route="/api/v1/shrine/shifts/<id>/bookings"' in queries, "the booking storm as clients see it"
    desk = set(re.findall(r"khademyar_desk_\w+", queries))
    assert {"khademyar_desk_tickets_received_total", "khademyar_desk_tickets_delivered_total",
            "khademyar_desk_late_tickets", "khademyar_desk_rating_points_total"} <= desk, "the desk scorecard"


def test_dashboards_are_provisioned_in_compose():
    compose = load_yaml(ROOT / "docker-compose.yml")
    volumes = compose["services"]["grafana"]["volumes"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in volumes if v.startswith("./")}
    assert mounts.get("/etc/grafana/provisioning") == "./deploy/grafana/provisioning"
    providers = [p for f in sorted(DASHBOARD_PROVISIONING.glob("*.yml")) for p in load_yaml(f)["providers"]]
    assert providers, "no dashboard provider in deploy/grafana/provisioning/dashboards/"
    for provider in providers:
        assert provider["type"] == "file"
        path = provider["options"]["path"]
        assert mounts.get(path) == "./deploy/grafana/dashboards", f"compose must mount the dashboards at {path}"
        assert all(v.endswith(":ro") for v in volumes if v.split(":")[1] == path)
    uids = [d["uid"] for d in dashboards().values()]
    assert len(uids) == len(set(uids)), "dashboard uids must be unique"
