def test_health_and_ready(api):
    assert api.get("/healthz").status == 200
    r = api.get("/readyz")
    assert r.status == 200, r
    assert set(r.json["services"]) == {"membership", "catalog", "reservation", "reporting", "shrine", "desk"}
