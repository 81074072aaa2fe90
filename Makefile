# Khademyar: `make run` and `make test` work on a fresh machine; everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint docs clean

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

bench: $(STAMP)
	$(PY) scripts/ensure_infra.py
	$(PY) -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check kit services gateway tests scripts bench

docs: $(STAMP)
	$(PY) scripts/write_docs.py

clean:
	rm -rf var/*.db var/*.db-* var/log var/documents
