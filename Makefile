# PartnerScope developer tasks. `make demo` is all a new user needs: it creates .venv from
# requirements.lock on first use (and again when the lock changes), loads the demo
# organization and serves it on http://127.0.0.1:8000/. Data lives in the settings' data dir
# (var/ in the repository unless PARTNERSCOPE_DATA_DIR says otherwise).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv demo serve test lint fmt bench clean

help:
	@echo "make demo    create .venv if needed, load the demo organization and serve it on http://$(HOST):$(PORT)/"
	@echo "make serve   serve without touching the demo data"
	@echo "make test    run the test suite (PYTEST_ARGS='-k backup' to pick tests)"
	@echo "make lint    ruff check and ruff format --check"
	@echo "make fmt     ruff format and safe ruff fixes"
	@echo "make bench   run each bench/*.py"
	@echo "make clean   remove var/ (the data) and .venv"

# The virtualenv, (re)installed whenever requirements.lock or pyproject.toml is newer than the stamp.
venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q uv
	@$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	@$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/partnerscope demo
	@$(BIN)/partnerscope serve --host $(HOST) --port $(PORT)

serve: $(STAMP)
	@$(BIN)/partnerscope serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	@found=0; for f in bench/*.py; do \
		[ -f "$$f" ] || continue; found=1; \
		echo "== $$f"; $(BIN)/python "$$f" || exit 1; \
	done; \
	[ $$found = 1 ] || echo "no benchmarks yet"

clean:
	rm -rf var $(VENV)
