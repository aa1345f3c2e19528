# Two commands do everything on a fresh machine (Python 3.11, no Docker):
#   make run   - the whole system on its embedded default (nats-server + SecantusDB + 4 services)
#   make test  - the whole test suite against private real servers
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BROWSER := $(VENV)/.browser
CONTRACT_TOOLS := tools/contract/node_modules/.installed
AXE    := tests/browser/node_modules/.installed
PROMTOOL := $(VENV)/.promtool
# Debian packages, as root: one install at a time on this machine (two `make test`s side by side
# would otherwise race for apt's lock and one would skip its browser tests), waiting for any
# other apt user rather than failing.
APT_GET := flock /tmp/attune-apt.lock apt-get -o DPkg::Lock::Timeout=600

.PHONY: run test test-fast lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# `make run DEMO=1` also seeds a demo relationship (two members, three weeks of entries);
# `make run CLUSTER=3` runs NATS as a 3-node JetStream cluster, every stream on all three.
# Headless Chromium for the browser tests (web app journey, ops dashboard).
$(BROWSER): $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  ($(APT_GET) update -qq && $(APT_GET) install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "Chromium could not be installed: the browser tests (web app, dashboard) will be skipped"
	@command -v chromium >/dev/null 2>&1 && touch $(BROWSER) || true

# promtool for the alert rules' tests (Debian's prometheus package, as root).
$(PROMTOOL): $(STAMP)
	@command -v promtool >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  ($(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends prometheus) >/dev/null 2>&1; } || \
	  echo "promtool could not be installed: the alert rules' tests will be skipped"
	@command -v promtool >/dev/null 2>&1 && touch $(PROMTOOL) || true

# The AsyncAPI CLI, Redocly and Spectral (npm registry, pinned by the lock) for the contract tests.
$(CONTRACT_TOOLS): tools/contract/package-lock.json
	@command -v npm >/dev/null 2>&1 && (cd tools/contract && npm ci --no-audit --no-fund --loglevel=error) && touch $@ || \
	  echo "npm is missing: the contract validators' tests will be skipped"

# axe-core (npm), injected into the web app by its browser test; skipped without npm.
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd tests/browser && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	  else echo "npm is not installed: the web app's accessibility checks will be skipped"; fi

run: $(STAMP)
	$(PY) -m deploy.embedded $(if $(DEMO),--demo) $(if $(CLUSTER),--cluster $(CLUSTER))

test: $(STAMP) $(BROWSER) $(PROMTOOL) $(CONTRACT_TOOLS) $(AXE)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Skips the slow fault-injection and load tests (CI runs them).
test-fast: $(STAMP) $(PROMTOOL)
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Every benchmark in bench/, one after another, then a table (a few minutes);
# `make bench BENCH="pipeline end_to_end"` runs only those.
bench: $(STAMP)
	$(PY) -m bench.run_all $(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
