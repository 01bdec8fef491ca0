# Two commands on a fresh machine:
#   make run    - the main job on embedded defaults
#   make test   - the whole test suite (lint, types, tests); installs the spark extra and makes
#                 sure Chromium and a Java runtime are present
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/scanwise kb
	$(VENV)/bin/scanwise serve

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(VENV)/bin/mypy src
	$(VENV)/bin/mypy --strict src/scanwise/domain

test: $(STAMP) lint
	tools/ensure_chromium.sh
	tools/ensure_java.sh
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b; done

clean:
	rm -rf $(VENV) build *.egg-info
