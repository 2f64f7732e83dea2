# The README's two commands: `make serve` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT

.PHONY: serve test install install-test data schema lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  echo "$(PYTHON) cannot create virtual environments: install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Validate the reviewed source data (refuses to go on if a row is bad), then build the search index.
data: install
	$(BIN)/python scripts/validate_data.py directory_data
	$(BIN)/python scripts/build_index.py

serve: data
	@if [ -f scripts/load_demo.py ]; then $(BIN)/python scripts/load_demo.py; fi
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
	$(BIN)/python scripts/export_schema.py

lint: install-test
	$(BIN)/ruff check server schema h5 scripts tests
	$(BIN)/ruff format --check server schema h5 scripts tests
	$(BIN)/mypy

bench: install
	$(BIN)/python scripts/bench_directory.py

clean:
	rm -rf var/index var/osm
