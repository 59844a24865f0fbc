# The README's two commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup setup-test demo serve test lint typecheck unit e2e bench screenshots clean

# `make demo` installs what the app needs to run (no test tools); `make test` adds them once.
# pip shows its progress: a first run downloads for a minute or two, and says so.
setup: $(VENV)/.installed mel/static/vendor/manifest.json

setup-test: setup $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	@echo "==> Creating $(VENV) and installing mel's runtime dependencies (the first run downloads them)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --progress-bar on pip
	$(BIN)/python -m pip install --progress-bar on -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/.installed
	@echo "==> Installing the test tools (pytest, ruff, mypy, playwright...)..."
	$(BIN)/python -m pip install --progress-bar on -e '.[test]'
	touch $@

mel/static/vendor/manifest.json: scripts/fetch_assets.py | $(VENV)/.installed
	@echo "==> Fetching the pinned front-end files (npm)..."
	$(BIN)/python scripts/fetch_assets.py

demo: setup
	@echo "==> Building the demo database and starting the server..."
	$(BIN)/mel demo --host $(HOST) --port $(PORT)

serve: setup
	$(BIN)/mel serve --host $(HOST) --port $(PORT)

lint: setup-test
	$(BIN)/ruff check mel demo tests bench scripts migrations
	$(BIN)/ruff format --check mel demo tests bench scripts migrations

typecheck: setup-test
	$(BIN)/mypy --strict mel demo

unit: setup-test
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test: lint typecheck unit

e2e: setup-test
	$(BIN)/python -m pytest tests/e2e -p no:xdist

bench: setup-test
	$(BIN)/python -m bench

screenshots: setup-test
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) mel/static/vendor .pytest_cache .mypy_cache .ruff_cache
