"""kit.runtime: the collector's tuning at start-up, and the timing of every collection."""
import gc
import logging

import pytest

from kit import metrics, runtime


@pytest.fixture
def collector():
    """Whatever a test does to the collector is undone afterwards."""
    threshold = gc.get_threshold()
    callbacks = list(gc.callbacks)
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.callbacks[:] = callbacks


def test_tune_freezes_what_start_up_made_and_sets_thresholds(collector):
    gc.unfreeze()
    done = runtime.tune(freeze=True, threshold="900,12,14")
    assert gc.get_threshold() == (900, 12, 14) and done["threshold"] == (900, 12, 14)
    assert done["frozen"] == gc.get_freeze_count() > 1000  # this process's modules, at least


def test_tune_without_freezing_leaves_everything_collectable(collector):
    gc.unfreeze()
    assert runtime.tune(freeze=False, threshold=None) == {}
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("bad", ["700,10", "0,10,10", "a,b,c"])
def test_a_threshold_that_is_not_three_positive_integers_is_refused(collector, bad):
    with pytest.raises(ValueError):
        runtime.tune(freeze=False, threshold=bad)


def sample(generation):
    return metrics.REGISTRY.get_sample_value("khademyar_gc_pause_seconds_count", {"generation": str(generation)}) or 0


def test_every_collection_is_timed_and_a_long_one_is_logged(collector, caplog, monkeypatch):
    runtime.meter_pauses()
    runtime.meter_pauses()  # once only, however often it is asked
    assert sum(isinstance(cb, runtime._PauseMeter) for cb in gc.callbacks) == 1
    before = sample(2)
    gc.collect()
    assert sample(2) == before + 1
    monkeypatch.setattr(runtime, "SLOW_PAUSE", 0.0)  # every pause is "long" now
    with caplog.at_level(logging.WARNING, logger="kit.runtime"):
        gc.collect()
    assert any("garbage collection of generation 2" in r.getMessage() for r in caplog.records)
