# Groundwire developer entry points. `make run` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The default CI set: everything except tests marked slow.
PYTEST_ARGS ?= -m "not slow" --durations=30

.PHONY: install run test test-all lint bench clean screenshots

install: $(STAMP)

# Idempotent: re-runs only when pyproject.toml changes. CPU torch 2.13.0 goes in first,
# because a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,torch]'
	# The default embedder runs the model on ONNX Runtime: export it once now (reused when valid).
	$(BIN)/groundwire embedder export
	touch $(STAMP)

run: install
	$(BIN)/groundwire ingest docs --exclude "images/**"
	@echo "Open http://$(HOST):$(PORT)/ (API docs at http://$(HOST):$(PORT)/docs)"
	$(BIN)/groundwire serve --dev --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-all: install
	$(BIN)/python -m pytest

# ruff, then the types (mypy: zero errors, strict on domain/ and retrieval/), then the
# dependency direction of ARCHITECTURE.md (import-linter contracts in pyproject.toml).
lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

# The web app's pages as PNGs in docs/screenshots/ (docs/web.md): the browser test drives a
# real server with the system Chromium (never downloaded) and saves each page it visits.
screenshots: install
	GROUNDWIRE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_web_app.py -m e2e -q

clean:
	rm -rf $(VENV) .groundwire .pytest_cache
