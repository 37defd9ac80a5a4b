# Two commands on a fresh machine: `make demo` and `make test`. Both build the venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo demo-examples test lint typecheck unit bench bench-detail clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# The local end-to-end demo: CDK synth summary, moto_server on a free 127.0.0.1 port, the real
# rule handlers with Config's events, Security Hub findings, report/lambda-guardrails.html.
# Needs npm only for the pinned CDK CLI: without npm the demo still runs (and says so).
demo: $(STAMP) $(if $(shell command -v npm),node_modules/.stamp)
	$(BIN)/python -m demo

# The engine alone over the example items (what `make demo` used to run).
demo-examples: $(STAMP)
	$(BIN)/python -m rules evaluate --rule all --format table examples/*.json

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers, each test module on one of them (its synth fixtures built once).
unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

test: lint typecheck unit

# One table, every figure next to its baseline measured in the same run (benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_all.py

# The engine's stages and every cold-start case, in detail.
bench-detail: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_cold_start.py

clean:
	rm -rf $(VENV) cdk.out node_modules .mypy_cache .ruff_cache .hypothesis

# The CDK app. `npx cdk synth` / `npx cdk deploy` use the CLI pinned in package.json
# (aws-cdk 2.1148.x: the 3.x CLI cannot read aws-cdk-lib 2.275 assemblies) and cdk.json's app,
# which runs app.py with this venv.
NODE_STAMP := node_modules/.stamp

.PHONY: synth

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

synth: $(STAMP) $(NODE_STAMP)
	npx cdk synth --quiet --app "$(BIN)/python app.py"
