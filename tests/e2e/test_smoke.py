from tests.fixtures import SERVICE_NAMES, STARTED


def test_health_and_ready(api):
    assert api.get("/healthz").status == 200
    r = api.get("/readyz")
    assert set(r.json["services"]) == set(SERVICE_NAMES)
    assert all(r.json["services"][name] == "ok" for name in STARTED)
    if set(STARTED) == set(SERVICE_NAMES):
        assert r.status == 200 and r.json["status"] == "ready", r


def test_metrics_are_red_per_route_and_per_entrypoint(api, flows):
    api.post("/applications", {"national_id": "bad"})  # one error, counted
    flows.admin()
    text = api.get("/metrics").raw.text
    assert 'khademyar_http_requests_total{method="POST",route="/api/v1/applications",status="422"}' in text
    assert 'khademyar_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/api/v1/auth/login"}' \
        in text
    assert 'khademyar_entrypoint_requests_total{entrypoint="apply",kind="rpc",service="membership"}' in text
    assert 'khademyar_entrypoint_errors_total{entrypoint="apply",error="Invalid",kind="rpc",service="membership"}' \
        in text
    assert "khademyar_entrypoint_duration_seconds_bucket" in text and "khademyar_outbox_lag_seconds" in text


def test_geography(api):
    provinces = api.get("/provinces").json["items"]
    assert len(provinces) == 31 and {"code": "9", "name": "خراسان رضوی"} in provinces
    assert sum(len(api.get(f"/provinces/{p['code']}/counties").json["items"]) for p in provinces) == 448
    assert api.get("/provinces/99/counties").status == 404
