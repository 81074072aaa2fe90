# Khademyar: `make run` and `make test` work on a fresh machine; everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test faults bench bench-outage lint docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) scripts/run.py

test: $(STAMP)
	$(PY) scripts/ensure_infra.py
	$(PY) scripts/ensure_browser.py
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The fault suite (broker cuts, database outages, killed processes) on its own: it restarts the local
# RabbitMQ application and PostgreSQL server for seconds, so it never runs under the main suite.
faults: $(STAMP)
	$(PY) scripts/ensure_infra.py
	$(PY) -m pytest -q tests/faults $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) scripts/ensure_infra.py
	$(PY) -m bench $(BENCH_ARGS)

# The booking storm with RabbitMQ killed (SIGKILL) and started again in the middle: it stops the broker of the
# whole machine for seconds, so it is a run of its own (bench/outage.py).
bench-outage: $(STAMP)
	$(PY) scripts/ensure_infra.py
	$(PY) -m bench --only outage $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check kit services gateway tests scripts bench

docs: $(STAMP)
	$(PY) scripts/write_docs.py

clean:
	rm -rf var/*.db var/*.db-* var/log var/documents
