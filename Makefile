# Two commands: `make demo` and `make test`. Both create or refresh .venv from pyproject.toml;
# `make test` also installs Debian's chromium (apt) for the Data Docs browser test.
# `make check` is the fast loop while coding: the tests without the `acceptance` or `slow` marker.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Data Docs browser test drives Debian's Chromium (tests/test_data_docs_browser.py).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# xdist workers (one per core); `--dist loadgroup` keeps tests that share a module fixture on one worker.
PARALLEL := -n auto --dist loadgroup

.PHONY: demo test check bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -c "from duckdb_extensions import import_extension; import_extension('spatial')"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nba-dq demo

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest $(PARALLEL)

check: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) -m "not acceptance and not slow"

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python -m bench.phase5
	$(BIN)/python -m bench.warm
	$(BIN)/python -m bench.audit
	$(BIN)/python -m bench.statements
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.growth
	$(BIN)/python -m bench.service
	$(BIN)/python -m bench.events

clean:
	rm -rf $(VENV) gx/uncommitted
