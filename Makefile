# What people run. Every target installs what it needs first: `make run` only local mode's packages (the
# run-time dependencies and moto server), the others everything (`.[dev]`: tests, linters, the CDK).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCAL_STAMP := $(VENV)/.installed-local
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install test lint format run synth deploy bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(LOCAL_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing local mode's packages into $(VENV) (first run only, about a minute)..."
	$(BIN)/pip install --quiet -e '.[local]'
	touch $(LOCAL_STAMP)

# `.[dev]` includes `.[local]`, so a full install stands for both.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing the development tools (tests, linters, CDK) into $(VENV) (first run only, ~2 min)..."
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP) $(LOCAL_STAMP)

install: $(DEV_STAMP)

test: $(DEV_STAMP) ## lint, type-check and run every test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# `make run PORT=8788` listens there instead of 8787; ARGS passes any other option of `suno-callbacks local`:
# `make run ARGS='--verbose --forward-to http://127.0.0.1:9000/hook --state-dir PATH --reset'`.
run: $(LOCAL_STAMP) ## local mode: moto server, the real handlers, callbacks on http://127.0.0.1:8787
	$(BIN)/suno-callbacks local $(if $(PORT),--port $(PORT)) $(ARGS)

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The CDK CLI and a supported Node.js come from package.json (npx puts node_modules/.bin first on PATH).
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

synth: $(DEV_STAMP) $(NODE_STAMP) ## synthesise the stack offline into cdk.out, checked by cdk-nag and cfn-lint
	npx cdk synth --quiet --no-notices
	$(BIN)/cfn-lint cdk.out/*.template.json

deploy: $(DEV_STAMP) $(NODE_STAMP) ## deploy to the account and region of your AWS credentials
	npx cdk deploy --no-notices --require-approval broadening

# Every benchmark, each printing ratios against a baseline measured in the same run; raw outputs in
# docs/bench/, then docs/results.md and docs/results.png are regenerated from them.
bench: $(DEV_STAMP) ## run the benchmarks and regenerate docs/results.md (takes several minutes)
	mkdir -p docs/bench
	$(BIN)/python bench/ingest.py | tee docs/bench/ingest.txt
	$(BIN)/python bench/archive.py | tee docs/bench/archive.txt
	$(BIN)/python bench/local_e2e.py | tee docs/bench/local_e2e.txt
	$(BIN)/python bench/cost.py | tee docs/bench/cost.txt
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) cdk.out .build node_modules .pytest_cache .mypy_cache .ruff_cache
