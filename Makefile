# The README's commands. Every target installs what it needs first.
#   make run    generate demo data and materialise the whole asset graph once (AS_OF=YYYY-MM-DD: a past night)
#   make test   lint (ruff, sqlfluff) + pytest  (.ci/run calls exactly this)
#   make dev    Dagster UI on http://127.0.0.1:3000
#   make serve  the published site (outputs/latest/) read-only on http://127.0.0.1:8000
#   make bench  benchmark the pipeline phases (SIZE=tiny|demo|large|model, see bench/README.md)
#   make quality  the demo model against the simulator's ground truth (after make run)
#   make soak   many nights with random faults (kills, full disk, concurrent runs) vs a clean twin

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MANIFEST := dbt_project/target/manifest.json

# Telemetry off everywhere; one warehouse path shared by Dagster and dbt.
export DAGSTER_DISABLE_TELEMETRY := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export DAGSTER_HOME ?= $(CURDIR)/dagster_home
export CHURN_WAREHOUSE_PATH ?= $(CURDIR)/outputs/warehouse.duckdb
export CHURN_LANDING_DIR ?= $(CURDIR)/outputs/landing
export CHURN_OUTPUTS_DIR ?= $(CURDIR)/outputs
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project

DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o \( -name '*.sql' -o -name '*.yml' \) -print 2>/dev/null)

.PHONY: install browser run test lint dev serve bench soak quality data manifest lock clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 is required, found {sys.version}"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# dagster-dbt loads dbt's manifest when the definitions are imported.
manifest: $(MANIFEST)

$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt parse --quiet

# Fresh demo data (as of yesterday) each time; the warehouse built from the previous
# demo data is dropped with it. A landing folder of real exports is never touched.
data: $(STAMP)
	@if [ -f "$(CHURN_LANDING_DIR)/.simulated" ]; then rm -f "$(CHURN_WAREHOUSE_PATH)" "$(CHURN_WAREHOUSE_PATH).wal"; fi
	$(BIN)/python -m simulator --replace --landing-dir "$(CHURN_LANDING_DIR)" \
		--truth-dir "$(CHURN_OUTPUTS_DIR)/ground_truth"

run: $(MANIFEST) data
	$(BIN)/python -m orchestration.run_once $(if $(AS_OF),--as-of $(AS_OF))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests dbt_project/macros

test: $(MANIFEST) lint browser
	$(BIN)/pytest

# The site's browser tests drive Debian's chromium through Playwright (Playwright's own
# browser download does not work offline); installed once, as root or through sudo.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# the venv on PATH: dagster-dbt's prepare_if_dev() runs `dbt parse` by name
dev: $(MANIFEST)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# Read-only (GET/HEAD only) on the loopback interface: the site and its CSVs, offline.
PORT ?= 8000
serve:
	@test -f "$(CHURN_OUTPUTS_DIR)/latest/index.html" || { echo "nothing published yet: run make run first"; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory "$(CHURN_OUTPUTS_DIR)/latest"

# The model against the simulator's ground truth (after make run): share of the ceiling.
quality: $(STAMP)
	$(BIN)/python -m bench.model_quality

NIGHTS ?= 4
soak: $(MANIFEST)
	$(BIN)/python -m bench.soak --nights $(NIGHTS)

SIZE ?= demo
bench: $(MANIFEST)
	$(BIN)/python -m bench.run_pipeline --size $(SIZE)

# Re-resolve the pinned versions from the ranges in pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ head -2 constraints.txt; .lock-venv/bin/pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .lock-venv

clean:
	rm -rf outputs/landing outputs/ground_truth outputs/runs outputs/latest outputs/models \
		outputs/warehouse.duckdb* outputs/warehouse.published.duckdb dbt_project/target dbt_project/logs
