# streamkit: `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_FLAGS ?= -p no:cacheprovider
# pytest-xdist: a worker per CPU core; each test file, and each notebook, runs whole in one worker
# (the notebooks and the IAM test that reads their kernels' reports together: conftest.py)
PARALLEL ?= -n auto --dist loadfile
# Tests and committed outputs always use the embedded backend, whatever the shell says.
LOCAL := STREAMKIT_BACKEND=local

.DEFAULT_GOAL := help
.PHONY: help install lab lab-aws calculator test test-unit test-notebooks test-browser lint bench check notebooks clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml jupyter/lab/settings/overrides.d/streamkit.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "streamkit needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@# the project's JupyterLab settings (no news pop-up), as defaults of this environment's JupyterLab
	mkdir -p $(VENV)/share/jupyter/lab/settings/overrides.d
	cp jupyter/lab/settings/overrides.d/streamkit.json $(VENV)/share/jupyter/lab/settings/overrides.d/
	@touch $(STAMP)

install: $(STAMP) ## Create .venv if missing and install the kit with everything to run and test it

lab: install ## Open JupyterLab on notebooks/ (embedded local AWS)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

lab-aws: install ## Open JupyterLab with the notebooks on your AWS account (README: Run it on AWS)
	STREAMKIT_BACKEND=aws $(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

calculator: install ## Serve the pricing calculator as a web page (Voila) on http://127.0.0.1:8866
	$(BIN)/voila apps/calculator.ipynb --no-browser --Voila.ip=127.0.0.1 --port=8866

test: install ## Unit tests and every notebook under nbval, in parallel (CI runs this and test-browser)
	$(LOCAL) $(BIN)/pytest tests notebooks --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg $(PARALLEL) $(PYTEST_FLAGS)

test-unit: install ## Unit tests only
	$(LOCAL) $(BIN)/pytest tests $(PARALLEL) $(PYTEST_FLAGS)

test-notebooks: install ## Notebooks under nbval only
	$(LOCAL) $(BIN)/pytest notebooks --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg $(PARALLEL) $(PYTEST_FLAGS)

test-browser: install ## JupyterLab and the Voila calculator in Chromium: Run All twice (same checked outputs), sliders (CI)
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 || { echo "the browser test needs Debian's chromium: sudo apt-get install -y chromium"; exit 1; }; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(BIN)/python -m pip install --quiet -e ".[dev,browser]"
	$(LOCAL) $(BIN)/pytest tests_browser $(PYTEST_FLAGS)

notebooks: install ## Re-run every notebook top to bottom and save it with its outputs
	cd notebooks && for nb in [0-9][0-9]_*.ipynb; do $(LOCAL) ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done

lint: install ## ruff on the package, tests, benchmarks and notebooks; mypy on the package
	$(BIN)/ruff check streamkit tests tests_browser bench notebooks
	$(BIN)/mypy

bench: install ## Run every benchmark and print its figures
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python "$$b" || exit 1; done

check: lint test ## Everything CI checks, plus lint

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
