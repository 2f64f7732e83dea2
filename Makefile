# The README's two commands: `make serve` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT

# the platform and oldest Python the lock files are resolved for
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
              --custom-compile-command "make lock" --quiet

.PHONY: serve test install install-test data schema lint bench lock clean

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  echo "$(PYTHON) cannot create virtual environments: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs are reproducible: the exact versions and hashes of the lock files, then the
# project itself without resolving anything again. pyproject.toml keeps the ranges.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check  # a lock older than a new dependency in pyproject.toml stops here
	touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Validate the reviewed source data (refuses to go on if a row is bad), then build the search index.
data: install
	$(BIN)/python -m scripts.validate_data directory_data
	$(BIN)/python -m scripts.build_gazetteer
	$(BIN)/python -m scripts.build_map
	$(BIN)/python -m scripts.build_index

serve: data
	@if [ -f scripts/load_demo.py ]; then $(BIN)/python -m scripts.load_demo; fi
	$(BIN)/uvicorn --factory server.app:create_app --host $(HOST) --port $(PORT) --proxy-headers

# The tests that run GraphQL, again on the stock executor (GRAPHQL_EXECUTOR=stock: Strawberry's
# and graphql-core's own, no fast path), on SQLite only: the executor does not depend on it.
GRAPHQL_TESTS := tests/schema tests/test_graphql_http.py tests/test_claim_journey.py \
	tests/test_readme.py tests/test_app.py

# pytest exits 5 when it collected nothing: that is a failure here, as any non-zero code.
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m pytest --graphql-executor=stock -m "not postgres" $(GRAPHQL_TESTS)

schema: install
	$(BIN)/python -m scripts.export_schema

lint: install-test
	$(BIN)/ruff check server schema api h5 scripts tests
	$(BIN)/ruff format --check server schema api h5 scripts tests
	$(BIN)/mypy

bench: install
	$(BIN)/python -m scripts.bench_directory

# Resolve pyproject.toml's ranges again (after a dependency changed): runtime, and runtime
# with the test and dev extras. Commit both files.
# needs only uv, so that a pyproject.toml ahead of the lock files can be locked
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --extra dev $(LOCK_FLAGS) \
	  -o requirements-test.lock
	# the runtime lock takes the test lock's versions, so one venv can hold both
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c requirements-test.lock \
	  -o requirements.lock

clean:
	rm -rf var/index var/osm
