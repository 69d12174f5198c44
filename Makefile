# Two commands for a fresh machine: `make demo` (the main job) and `make test` (the project's own tests).
# Both build .venv from the project's own files first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The Entra profile against the bundled reference server; the HTML report lands under reports/.
demo: $(STAMP)
	$(BIN)/scim-conformance run --profile entra-id --report-dir reports

test: $(STAMP)
	bash scripts/browser-setup.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2 --dist worksteal

bench: $(STAMP)
	$(BIN)/python bench/server.py

clean:
	rm -rf $(VENV) reports/*.html reports/*.json reports/*.xml
