# The README's two commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup demo serve test lint typecheck unit e2e bench screenshots clean

setup: $(VENV)/.installed mel/static/vendor/manifest.json

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

mel/static/vendor/manifest.json: scripts/fetch_assets.py | $(VENV)/.installed
	$(BIN)/python scripts/fetch_assets.py

demo: setup
	$(BIN)/mel demo --host $(HOST) --port $(PORT)

serve: setup
	$(BIN)/mel serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check mel tests bench scripts migrations
	$(BIN)/ruff format --check mel tests bench scripts migrations

typecheck: setup
	$(BIN)/mypy mel

unit: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test: lint typecheck unit

e2e: setup
	$(BIN)/python -m pytest tests/e2e -p no:xdist

bench: setup
	$(BIN)/python -m bench

screenshots: setup
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) mel/static/vendor .pytest_cache .mypy_cache .ruff_cache
