# The two commands: `make run` (the whole stack on this machine) and `make test` (lint, types, tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest clean browser faults

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/xptt dev up

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (never `playwright install`, which downloads and fails here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y chromium || (apt-get update && apt-get install -y chromium); \
		else sudo -n apt-get install -y chromium || (sudo -n apt-get update && sudo -n apt-get install -y chromium); fi \
		|| echo "could not install chromium: the browser tests will fail"; \
	fi

pytest: $(STAMP) browser
	$(BIN)/pytest

test: lint typecheck pytest

# Every fault scenario, the long ones included; prints scenario → outcome and writes var/faults/report.json.
faults: $(STAMP)
	$(BIN)/pytest tests/faults -m 'faults_full or not faults_full' -p no:cacheprovider

clean:
	rm -rf $(VENV) var
