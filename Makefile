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

.PHONY: demo test check bench lint lock clean screenshots

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

# The README's pictures (docs/img): real runs against a local Slack, drawn and taken with Chromium.
screenshots: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m docs.screenshots

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
	$(BIN)/python -m bench.landing
	$(BIN)/python -m bench.claims
	$(BIN)/python -m bench.service
	$(BIN)/python -m bench.state_store
	$(BIN)/python -m bench.events
	$(BIN)/python -m bench.alert_size
	$(BIN)/python -m bench.slack_actions

# requirements.lock: the container's runtime dependencies (pyproject's, no test extras, plus the build backend
# that installs nba-dq itself), pinned with the hashes of every file on the package index, for Python 3.11
# on linux x86_64 (`pip install --require-hashes` in the Dockerfile). Resolved twice: first with the test
# extras, the set a fresh `make test` installs and the suite runs on, then the runtime set constrained to
# it, so the image runs the versions the tests ran (the test extras alone would otherwise pull protobuf
# down). pip-tools lives in a scratch venv outside the repo. Resolved from the package index alone
# (no local wheel folder or machine pip config): the hashes must be those of the files `docker build`
# downloads. tests/test_container.py fails when pyproject and the lock disagree.
LOCK_TOOLS ?= $(or $(TMPDIR),/tmp)/nba-dq-pip-tools
LOCK_ENV := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
	CUSTOM_COMPILE_COMMAND="make lock"
PIP_COMPILE := $(LOCK_ENV) $(LOCK_TOOLS)/bin/pip-compile --quiet --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

lock:
	test -x $(LOCK_TOOLS)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_TOOLS) && \
		$(LOCK_ENV) $(LOCK_TOOLS)/bin/pip install --quiet --disable-pip-version-check pip-tools==7.6.2)
	$(LOCK_TOOLS)/bin/python -c 'import platform, sys; sys.exit(None if sys.version_info[:2] == (3, 11) and \
		platform.machine() == "x86_64" else "make lock: needs Python 3.11 on x86_64, like the image (PYTHON=...)")'
	mkdir -p build
	$(PIP_COMPILE) --extra test --output-file build/tested.txt pyproject.toml
	$(PIP_COMPILE) --generate-hashes --all-build-deps --constraint build/tested.txt \
		--output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) gx/uncommitted
