# The two commands: `make run` starts Talkative, `make test` runs every check.
# Everything is installed into .venv by these targets; nothing is installed by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install install-runtime release-check lint typecheck pytest migrate clean frontend frontend-test system-packages openapi mutate

# The web UI: npm packages from the lockfile, built into the Python package's static folder.
UI_STAMP := frontend/node_modules/.installed
UI_BUILD := src/talkative/static/index.html
UI_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts \
	frontend/tsconfig.json frontend/package.json

# Two installs: what the server needs (`make run`, `make migrate`), and that plus the dev tools
# (tests, linters, type checker, build) for everything else.
RUN_STAMP := $(VENV)/.installed-run

define venv_with
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '$(1)'
endef

$(RUN_STAMP): pyproject.toml
	$(call venv_with,.)
	@touch $@

$(STAMP): pyproject.toml
	$(call venv_with,.[dev])
	@touch $@ $(RUN_STAMP)

install-runtime: $(RUN_STAMP)

install: $(STAMP)

$(UI_STAMP): frontend/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 20) is required to build the web UI" >&2; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(UI_BUILD): $(UI_STAMP) $(UI_SOURCES)
	cd frontend && npm run --silent build

frontend: $(UI_BUILD)

# ESLint (no warnings allowed), Prettier's check, then Vitest.
frontend-test: $(UI_STAMP)
	cd frontend && npm run --silent lint && npm run --silent format:check && npm test --silent

# The API document the web UI is typed against, from the live app: frontend/openapi.json and the
# types generated from it, frontend/src/api/schema.d.ts (tests/ui/test_openapi_committed.py fails when
# either is stale).
openapi: install $(UI_STAMP)
	$(BIN)/python scripts/openapi.py

system-packages:
	@bash scripts/ensure-system-packages.sh

run: install-runtime frontend
	$(BIN)/talkative serve

migrate: install-runtime
	$(BIN)/talkative migrate

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# The coverage floor: `make test` fails when the whole suite covers less of src/talkative than
# this (in %, servers and commands started as processes included). It only goes up: when the
# total rises, raise it to the new total rounded down; never lower it to let a change through.
COVERAGE_FLOOR := 91

pytest: install frontend system-packages
	@bash scripts/ensure-postgres.sh
	rm -f .coverage .coverage.*
	$(BIN)/pytest --cov=talkative --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

test: lint typecheck frontend-test pytest

# The runbook's pre-release checklist as one command (docs/runbook.md, "Before a release"): tests,
# e2e, build, a clean tree, migrations up and down on a copy of DATA (or of a fresh data dir) and
# `talkative check` on it, then a summary table. RELEASE_CHECK_ARGS="--skip-tests --skip-e2e" for
# a quick run; --json-out FILE writes the summary for `talkative release-notes --validation FILE`.
release-check: install
	$(BIN)/python scripts/release_check.py $(if $(DATA),--data '$(DATA)') $(RELEASE_CHECK_ARGS)

clean:
	rm -rf $(VENV) mutants .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage .coverage.* frontend/node_modules \
		src/talkative/static

# Mutation testing (README, "Mutation testing"): slow, so not part of `make test`. Mutates the
# functions below (their files and the tests run: [tool.mutmut] in pyproject.toml) from a fresh
# mutants/ each time, then prints the score and every surviving mutant (`$(BIN)/mutmut show NAME`).
MUTATE_TARGETS := \
	'talkative.auth.policy.*' \
	'talkative.auth.principal.*' \
	'talkative.agents.dependencies.x_valid_agent__mutmut_*' \
	'talkative.agents.service.x_get_agent__mutmut_*' \
	'talkative.agents.service.x_list_agents__mutmut_*' \
	'talkative.runs.service.x_get__mutmut_*' \
	'talkative.runs.service.x_list_runs__mutmut_*' \
	'talkative.runs.reducer.*' \
	'talkative.events.service.x_tail__mutmut_*' \
	'talkative.events.service.x_after__mutmut_*' \
	'talkative.events.service.x_latest_id__mutmut_*' \
	'talkative.events.bus.*Subscription*offer__mutmut_*' \
	'talkative.tools.isolation.x_policy_for__mutmut_*' \
	'talkative.tools.isolation.x_isolate_config__mutmut_*' \
	'talkative.tools.isolation.x_status__mutmut_*' \
	'talkative.tools.isolation.x__probe_status__mutmut_*' \
	'talkative.tools.isolation.x_refusal__mutmut_*' \
	'talkative.tools.isolation.x_refusal_message__mutmut_*' \
	'talkative.tools.isolation.*SandboxStatus*' \
	'talkative.orchestrator.steps.tool.*ToolExecutor*run__mutmut_*'

mutate: install
	rm -rf mutants
	$(BIN)/mutmut run $(MUTATE_TARGETS)
	$(BIN)/python scripts/mutation_score.py $(MUTATE_TARGETS)

# Benchmarks (bench/README.md): a fresh server on a temp data dir, every workload, results written to
# bench/results/<date>.json and .md. Pass driver options with BENCH_ARGS="--quick" or "--only loop,sse".
.PHONY: bench
bench: install
	$(BIN)/python -m bench.run --out-dir bench/results $(BENCH_ARGS)
