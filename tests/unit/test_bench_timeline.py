"""bench/shrine.py ``timeline``: the storm's answers grouped by when they were sent, not by when they came back."""
from bench.shrine import machine_drift, timeline


def answer(sent, ms, status=409):
    return {"at": sent + ms / 1000, "ms": ms, "status": status}


def test_answers_fall_in_the_window_they_were_sent_in():
    done = {"started": 100.0, "results": [
        answer(100.0, 400, 201), answer(100.5, 300, 201), answer(101.9, 500),  # sent in the first two seconds
        answer(102.1, 100), answer(103.0, 200),  # the next two, one of them answered after 4 s
        answer(106.0, 50, 201),
    ]}
    rows = timeline(done)
    assert [r["from_s"] for r in rows] == [0.0, 2.0, 6.0]
    assert [r["sent"] for r in rows] == [3, 2, 1]
    assert [r["booked"] for r in rows] == [2, 0, 1]
    assert rows[0]["p50_ms"] == 400 and rows[0]["max_ms"] == 500
    assert rows[1]["p99_ms"] == 200 and rows[2]["p50_ms"] == 50


def test_a_clock_read_before_the_start_counts_in_the_first_window():
    rows = timeline({"started": 10.0, "results": [answer(9.999, 5)]}, window=1.0)
    assert rows == [{"from_s": 0.0, "sent": 1, "booked": 0, "p50_ms": 5.0, "p99_ms": 5.0, "max_ms": 5.0}]


def machine(busy, idle, steal=0.0, interrupts=0.0, iowait=0.0):
    return {"busy": busy, "idle": idle, "steal": steal, "interrupts": interrupts, "iowait": iowait}


def test_each_window_says_how_the_cores_were_spent():
    # (time, the measured processes' CPU so far by label, the machine's counters): two cores, 1 s apart
    series = [(100.0, {"shrine": 0.0, "clients": 0.0}, machine(0.0, 0.0)),
              (101.0, {"shrine": 1.0, "clients": 0.5}, machine(1.6, 0.2, steal=0.2)),
              (102.0, {"shrine": 1.2, "clients": 0.8, "postgres": 0.0}, machine(2.2, 1.4, steal=0.4))]
    done = {"started": 100.0, "results": [answer(100.0, 10), answer(101.0, 10)]}
    (row,) = timeline(done, window=2.0, series=series)
    assert row["cores"] == {"measured": 1.0, "others": 0.1, "interrupts": 0.0, "idle": 0.7, "iowait": 0.0,
                            "steal": 0.2}
    assert row["cpu_ms"] == {"shrine": 600.0, "clients": 400.0}  # 1.2 s and 0.8 s for two answers
    (first, second) = timeline(done, window=1.0, series=series)
    assert first["cores"]["measured"] == 1.5 and first["cores"]["others"] == 0.1
    assert second["cores"]["measured"] == 0.5 and second["cores"]["idle"] == 1.2
    assert first["cpu_ms"] == {"shrine": 1000.0, "clients": 500.0}
    assert second["cpu_ms"] == {"clients": 300.0, "shrine": 200.0}


def test_the_machine_is_read_from_proc_stat():
    from bench.load import CpuMeter, machine_stat

    stat = machine_stat()
    assert stat["busy"] > 0 and stat["idle"] >= 0 and "steal" in stat
    with CpuMeter([]) as meter:
        sum(range(200_000))
    figures = meter.machine()
    assert set(figures) == {"measured", "others", "interrupts", "idle", "iowait", "steal"}
    assert figures["measured"] >= 0 and all(v >= 0 for v in figures.values())


def test_the_machines_drift_is_read_off_the_load_generators_fixed_work():
    rows = [{"cpu_ms": {"clients": 0.9}},  # the clients starting: left out
            {"cpu_ms": {"clients": 0.4, "shrine": 2.0}}, {"cpu_ms": {"clients": 0.6, "shrine": 3.0}},
            {"cpu_ms": {"shrine": 1.0}}, {"cpu_ms": {"clients": 0.3}}]  # the last one, partial: left out
    assert machine_drift(rows) == {"clients_ms_per_attempt": [0.4, 0.6], "slowest_over_fastest": 1.5}
    assert machine_drift(rows[:2]) == {}
