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

# pytest caches bytecode even where the environment says not to (PYTHONDONTWRITEBYTECODE): the suite starts dozens of
# Python processes (workers, the CLI under test), each of which would compile the package and rewrite the checks again.
test: $(STAMP)
	bash scripts/browser-setup.sh
	$(BIN)/ruff check .
	$(BIN)/mypy
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n 2 --dist worksteal

bench: $(STAMP)
	$(BIN)/python bench/server.py

clean:
	rm -rf $(VENV) reports/*.html reports/*.json reports/*.xml
