# Switchboard. Quick start: `make run` (serve on the embedded SQLite default), `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test test-postgres soak lint bench accuracy demo model clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/switchboard migrate
	$(BIN)/switchboard serve

demo: $(STAMP)
	$(BIN)/switchboard demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q
	$(BIN)/python benchmarks/classify_accuracy.py tests/data/classify/devset.jsonl
	$(BIN)/python benchmarks/classify_accuracy.py tests/data/classify2/devset.jsonl

# The same suite on PostgreSQL (CI runs it too): SWITCHBOARD_TEST_DATABASE_URL names a server
# database the tests may create and drop databases from.
PG_URL ?= postgresql://postgres@127.0.0.1/postgres
test-postgres: $(STAMP)
	SWITCHBOARD_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

# 100,000 messages, four worker processes on PostgreSQL + Redis (127.0.0.1), a few minutes
soak: $(STAMP)
	SWITCHBOARD_SOAK=1 $(BIN)/pytest -q -s tests/scale/test_soak.py

accuracy: $(STAMP)
	$(BIN)/python benchmarks/classify_accuracy.py tests/data/classify/devset.jsonl
	$(BIN)/python benchmarks/classify_accuracy.py tests/data/classify2/devset.jsonl
	$(BIN)/python benchmarks/classify_accuracy.py benchmarks/holdout/holdout.jsonl --min 0

# Rebuild the router's text model from router/training_data/ (deterministic: the same data
# give the same file; `make test` checks that router/model.npz matches its data)
model: $(STAMP)
	$(BIN)/switchboard model train --force
	$(BIN)/switchboard model evaluate

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
