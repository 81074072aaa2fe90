"""The Python runtime of a service process, tuned once when its container starts: the garbage collector.

A started process holds a few hundred thousand long-lived objects (nameko, kombu, SQLAlchemy, marshmallow, the
schemas, the routes), and CPython's collector walks all of them in every full collection, while every request
makes thousands of short-lived ones, so young collections come every few hundred allocations. ``gc.freeze()``
moves what exists after start-up into a permanent generation that collections skip (CPython 3.7+, the tuning
Instagram described for its Django fleet). Cycles made while serving are still collected: only what was there at
start-up is left alone. What a pause costs is the garbage it meets, so requests should make no cycles at all
(docs/kit.md); ``GC_THRESHOLD`` can space young collections further apart, but in the booking storm that made them
rarer and longer, and the p99 worse (docs/benchmarks.md, session 6), so CPython's thresholds stay the default.

``GC_FREEZE`` (true) and ``GC_THRESHOLD`` ("g0,g1,g2"; empty keeps CPython's 700,10,10) are read from the config.

Every collection's pause is measured (``khademyar_gc_pause_seconds`` by generation), and one over ``SLOW_PAUSE``
is logged: a process stopped for the whole collection serves nobody meanwhile.
"""
import gc
import logging
import sys
import time

from nameko.extensions import DependencyProvider

from kit import metrics

log = logging.getLogger(__name__)

SLOW_PAUSE = 0.1  # seconds


class _PauseMeter:
    """A ``gc.callbacks`` entry timing each collection."""

    def __init__(self):
        self.started = None

    def __call__(self, phase, info):
        if phase == "start":
            self.started = time.perf_counter()
            return
        if self.started is None:
            return
        pause, self.started = time.perf_counter() - self.started, None
        if sys.is_finalizing():  # the interpreter is ending: logging and eventlet may be half gone
            return
        try:
            metrics.GC_PAUSE.labels(str(info["generation"])).observe(pause)
            if pause > SLOW_PAUSE:
                log.warning("a garbage collection of generation %d stopped the process for %.0f ms (%d objects "
                            "freed)", info["generation"], pause * 1000, info["collected"])
        except Exception:  # a collector's callback must never raise (the pause is lost, not the process)
            pass


def meter_pauses():
    if not any(isinstance(cb, _PauseMeter) for cb in gc.callbacks):
        gc.callbacks.append(_PauseMeter())


def _truthy(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def tune(freeze=True, threshold=None):
    """Freeze what the process holds now and set the collector's thresholds; what was done, for the log."""
    done = {}
    if threshold:
        values = tuple(int(v) for v in str(threshold).split(","))
        if len(values) != 3 or min(values) < 1:
            raise ValueError(f"GC_THRESHOLD must be three positive integers, not {threshold!r}")
        gc.set_threshold(*values)
        done["threshold"] = values
    if freeze:
        gc.collect()  # what is garbage now goes first, so that only live objects are frozen
        gc.freeze()
        done["frozen"] = gc.get_freeze_count()
    return done


class Runtime(DependencyProvider):
    """Declared once on every service class and on the gateway; tunes the process when the container starts.

    (It gives workers nothing: ``get_dependency`` answers None.)"""

    tuned = False  # per process: several containers in one process (the tests) tune it once

    def start(self):
        if Runtime.tuned:
            return
        config = self.container.config
        done = tune(_truthy(config.get("GC_FREEZE", True)), config.get("GC_THRESHOLD") or None)
        meter_pauses()
        Runtime.tuned = True
        log.info("garbage collector tuned: %s", done)

    def get_dependency(self, worker_ctx):
        return None
