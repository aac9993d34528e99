# Two commands do all set-up on a fresh machine (Python 3.11, pip, make):
#   make demo   run the nightly example DAG end to end in real Airflow against the embedded Canvas simulator
#   make test   run the whole test suite on the newest Airflow 3 and on Airflow 2.11
# Each creates its own virtualenv from the pinned constraints in constraints/.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
AIRFLOW3 := 3.3.2
AIRFLOW2 := 2.11.2
VENV3 := .venv-af3
VENV2 := .venv-af2
PYTEST_ARGS ?=

.PHONY: help demo test test-af3 test-af2 lint typecheck e2e bench docs dist clean venv

help:
	@echo "make demo       run the example nightly DAG against the embedded Canvas simulator"
	@echo "make test       run the test suite on Airflow $(AIRFLOW3) and $(AIRFLOW2)"
	@echo "make lint       ruff"
	@echo "make typecheck  mypy (strict)"
	@echo "make bench      benchmarks (prints figures; not part of make test)"
	@echo "make docs       build the documentation site (docs/_build/html), warnings as errors"
	@echo "make dist       build the wheel and sdist (dist/) and check them with twine"
	@echo "make clean      remove virtualenvs and build output"

# $(1) = venv dir, $(2) = Airflow version
define make_venv
$(1)/.installed: constraints/airflow-$(2).txt pyproject.toml
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -c constraints/airflow-$(2).txt "apache-airflow==$(2)" -e ".[test,lint]"
	touch $(1)/.installed
endef
$(eval $(call make_venv,$(VENV3),$(AIRFLOW3)))
$(eval $(call make_venv,$(VENV2),$(AIRFLOW2)))

venv: $(VENV3)/.installed

test: test-af3 test-af2

test-af3: $(VENV3)/.installed
	$(VENV3)/bin/python -m pytest $(PYTEST_ARGS)

test-af2: $(VENV2)/.installed
	$(VENV2)/bin/python -m pytest $(PYTEST_ARGS)

# The real-triggerer end-to-end test alone (it is also part of make test).
e2e: $(VENV3)/.installed $(VENV2)/.installed
	$(VENV3)/bin/python -m pytest -m e2e $(PYTEST_ARGS)
	$(VENV2)/bin/python -m pytest -m e2e $(PYTEST_ARGS)

lint: $(VENV3)/.installed
	$(VENV3)/bin/ruff check airflow_provider_canvas_progress tests example_dags benchmarks docs
	$(VENV3)/bin/ruff format --check airflow_provider_canvas_progress tests example_dags benchmarks docs

typecheck: $(VENV3)/.installed
	$(VENV3)/bin/mypy

demo: $(VENV3)/.installed
	$(VENV3)/bin/python scripts/demo.py

# Benchmark-only dependencies (matplotlib, canvasapi), pinned in the Airflow 3 constraints.
$(VENV3)/.bench-installed: $(VENV3)/.installed
	$(VENV3)/bin/python -m pip install --quiet -c constraints/airflow-$(AIRFLOW3).txt "apache-airflow==$(AIRFLOW3)" -e ".[bench]"
	touch $@

bench: $(VENV3)/.bench-installed
	$(VENV3)/bin/python -m benchmarks

# The docs and dist tools (Sphinx, MyST, the theme; build, twine, hatchling) are pinned in the
# Airflow 3 constraints like everything else, and installed into the Airflow 3 virtualenv.
$(VENV3)/.tools-installed: $(VENV3)/.installed
	$(VENV3)/bin/python -m pip install --quiet -c constraints/airflow-$(AIRFLOW3).txt "apache-airflow==$(AIRFLOW3)" -e ".[docs,dist]"
	touch $@

docs: $(VENV3)/.tools-installed
	rm -rf docs/_build
	$(VENV3)/bin/python -m sphinx -W --keep-going -E -b html docs docs/_build/html

# --no-isolation: the pinned hatchling of the virtualenv builds, nothing is downloaded.
dist: $(VENV3)/.tools-installed
	rm -rf dist
	$(VENV3)/bin/python -m build --no-isolation --outdir dist .
	$(VENV3)/bin/python -m twine check --strict dist/*

clean:
	rm -rf $(VENV3) $(VENV2) .airflow-* build dist *.egg-info docs/_build
