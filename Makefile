# The one entry point: `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
SHARED ?= ../shared
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON ?= 3.11
export RASA_TELEMETRY_ENABLED := false

.PHONY: help run test lint typecheck unit integration format bench clean browser

help:
	@echo "make run   - create the environment, migrate, start the service (SQLite)"
	@echo "make test  - create the environment and run every check and test"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

include nlu/nlu.mk

run: .venv/.synced nlu-venv
	$(UV) run sapa db upgrade
	$(UV) run sapa serve

lint: .venv/.synced
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck: .venv/.synced
	$(UV) run mypy

# Browser tests drive Debian's Chromium through Playwright (never `playwright install`).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get install -y --no-install-recommends chromium \
	  || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

browser: $(CHROMIUM)

test: .venv/.synced nlu-venv nlu-train browser lint typecheck
	$(UV) run pytest
	$(MAKE) nlu-eval

format: .venv/.synced
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

bench: .venv/.synced nlu-venv nlu-train
	$(UV) run python -m bench.lexicon
	$(UV) run python -m bench.nlu
	$(UV) run python -m bench.pipeline

clean:
	rm -rf .venv $(TOOLS) nlu/.venv var
