# streamdrift — `make demo` and `make test` are all a fresh machine needs.
# Needs: python3 (>= 3.11), Java 17+, Maven. Downloads are cached in ~/.cache/pip and ~/.m2.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help install tools kafka lint typecheck unit integration test demo bench evaluate soak clean

help:
	@echo "make demo    set everything up and run the demo (local Kafka, worker, simulated drift, alerts live)"
	@echo "make test    set everything up and run lint, type checks, unit and integration tests"
	@echo "make bench [QUICK=1]      throughput, latency and memory benchmark (ratios printed last)"
	@echo "make evaluate [QUICK=1]   detection quality vs River's detectors (table + plots in load/results)"
	@echo "make soak                 crash/outage recovery tests, ten times bigger"
	@echo "make lint | typecheck | unit | integration | clean"

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "streamdrift needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need, installed only where the binary is missing (we run as root):
# chromium renders the HTML report in its test; Prometheus (with promtool) scrapes a worker and
# checks the rules; Alertmanager receives forwarded alerts. Pairs of binary:package.
DEB_TOOLS := chromium:chromium prometheus:prometheus promtool:prometheus \
             prometheus-alertmanager:prometheus-alertmanager
tools:
	@missing=""; for pair in $(DEB_TOOLS); do bin=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$bin >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    $$(echo $$missing | tr ' ' '\n' | sort -u); \
	fi

# Resolve the Apache Kafka jars with Maven (cached in ~/.m2; the classpath in ~/.cache/streamdrift)
kafka: install
	$(BIN)/python -c 'from streamdrift.devtools.broker import resolve_classpath as r; r(); print("Apache Kafka resolved")'

lint: install
	$(BIN)/ruff check src tests load
	$(BIN)/ruff format --check src tests load

typecheck: install
	$(BIN)/mypy

unit: install tools
	$(BIN)/pytest tests -m "not integration" $(PYTEST_ARGS)

integration: kafka tools
	$(BIN)/pytest tests -m integration $(PYTEST_ARGS)

test: kafka tools lint typecheck
	$(BIN)/pytest tests $(PYTEST_ARGS)

demo: kafka
	$(BIN)/streamdrift demo $(DEMO_ARGS)

# Throughput vs the limit and a Faust baseline, alert latency, memory (starts its own broker)
bench: kafka
	$(BIN)/python -m load.bench $(if $(QUICK),--quick,) $(BENCH_ARGS)

# Detection quality: streamdrift vs River's detectors on the scenarios, then on real datasets
# and AR(1) streams (load/evaluate_real.py; no broker)
evaluate: install
	$(BIN)/python -m pip install --quiet -e ".[test,bench,evaluate]"
	$(BIN)/python -m load.evaluate $(if $(QUICK),--quick,) $(EVAL_ARGS)
	$(BIN)/python -m load.evaluate_real $(if $(QUICK),--quick,) $(EVAL_REAL_ARGS)

# The recovery tests, bigger (ten times the events)
soak: kafka
	STREAMDRIFT_SOAK=1 $(BIN)/pytest tests/integration/test_recovery.py -s --timeout 3600 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
