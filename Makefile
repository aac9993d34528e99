# Two commands do all set-up on a fresh machine (Python 3.11, pip, make):
#   make demo   run the nightly example DAGs end to end in real Airflow against the embedded Canvas simulator
#   make test   run the whole test suite on the newest Airflow 3 and on Airflow 2.11
# Each creates its own virtualenv from the pinned constraints in constraints/.
#   make matrix every other supported Airflow and Python (see MATRIX below), each in a virtualenv of its own

PYTHON ?= $(shell command -v python3.11 || command -v python3)
AIRFLOW3 := 3.3.2
AIRFLOW2 := 2.11.2
VENV3 := .venv-af3
VENV2 := .venv-af2
PYTEST_ARGS ?=

# Interpreters of the matrix, found without asking: pyenv's, else the one on PATH.
PY310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) $(shell command -v python3.10))
PY311 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.11.*/bin/python3.11) $(shell command -v python3.11))
PY312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12.*/bin/python3.12) $(shell command -v python3.12))
PY313 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python3.13) $(shell command -v python3.13))

# make matrix: <airflow>-py<python>. The whole suite where Airflow supports a Python that make test does
# not run (3.10 with Airflow 2.11, 3.13 with Airflow 3.3); the Airflow-level tests (sensor, operators,
# triggers, example DAGs, connection form, the version differences) on every other minor and Python.
MATRIX_WHOLE := 2.11.2-py3.10 3.3.2-py3.13
MATRIX_AIRFLOW := 3.0.6-py3.11 3.1.8-py3.11 3.2.2-py3.11 3.3.2-py3.12
# Longest first (measured: 3.0 to 3.2 run the Airflow-level tests slowest), so that jobs finish together.
MATRIX := 3.2.2-py3.11 3.0.6-py3.11 3.3.2-py3.13 3.1.8-py3.11 2.11.2-py3.10 3.3.2-py3.12
AIRFLOW_LEVEL_TESTS := tests/airflow tests/triggers tests/compat tests/auth/test_connection_form.py
# Venv creation is download- and IO-bound, the tests CPU-bound: two jobs keep two cores busy.
MATRIX_JOBS ?= 2
# make ci-tests runs three: a whole-suite run sleeps half its time (measured on Airflow 3.3: 210 s of CPU in
# 457 s for the tests outside the Airflow-level set; throttle pauses, real-triggerer end-to-end runs), so a
# third job fills what two leave idle on a 2-core machine.
CI_JOBS ?= 3
MATRIX_OUT := .matrix
, := ,
# One pip cache for every virtualenv, inside the repository (the .venv* pattern keeps it out of git).
export PIP_CACHE_DIR := $(CURDIR)/.venv-pip-cache

.PHONY: help demo test test-af3 test-af2 matrix ci ci-tests lint typecheck e2e bench docs dist clean venv

help:
	@echo "make demo       run the nightly example DAGs against the embedded Canvas simulator"
	@echo "make test       run the test suite on Airflow $(AIRFLOW3) and $(AIRFLOW2)"
	@echo "make matrix     the other supported Airflows and Pythons: $(MATRIX)"
	@echo "make ci         what CI runs (.ci/run): make test, make matrix and the checks below, as one graph"
	@echo "make lint       ruff"
	@echo "make typecheck  mypy (strict)"
	@echo "make bench      benchmarks (prints figures; not part of make test)"
	@echo "make docs       build the documentation site (docs/_build/html), warnings as errors"
	@echo "make dist       build the wheel and sdist (dist/) and check them with twine"
	@echo "make clean      remove virtualenvs and build output"

# $(1) = venv dir, $(2) = Airflow version
define make_venv
$(1)/.installed: constraints/airflow-$(2).txt pyproject.toml
	@start=$$$$(date +%s); set -e; rm -rf $(1); $(PYTHON) -m venv $(1); \
	$(1)/bin/python -m pip install --quiet --upgrade pip; \
	$(1)/bin/python -m pip install --quiet -c constraints/airflow-$(2).txt "apache-airflow==$(2)" -e ".[test,lint]"; \
	echo "$(1): built in $$$$(( $$$$(date +%s) - start )) s"
	touch $(1)/.installed
endef
$(eval $(call make_venv,$(VENV3),$(AIRFLOW3)))
$(eval $(call make_venv,$(VENV2),$(AIRFLOW2)))

venv: $(VENV3)/.installed

# --- make matrix ----------------------------------------------------------------------------------
# constraints/airflow-<version>-py<python>.txt where a Python needs other pins, else airflow-<version>.txt.
constraints_for = $(firstword $(wildcard constraints/airflow-$(1)-py$(2).txt) constraints/airflow-$(1).txt)

# $(1) = Airflow version, $(2) = Python version, $(3) = interpreter, $(4) = extras, $(5) = tests
define matrix_target
.venv-matrix-$(1)-py$(2)/.installed: $(call constraints_for,$(1),$(2)) pyproject.toml
	@test -n "$(3)" || { echo "matrix $(1)-py$(2): no python$(2) (pyenv install $(2) or put it on PATH)"; exit 1; }
	@echo "matrix $(1)-py$(2): building .venv-matrix-$(1)-py$(2) with $(3) and $(call constraints_for,$(1),$(2))"
	@start=$$$$(date +%s); rm -rf .venv-matrix-$(1)-py$(2) \
	&& $(3) -m venv .venv-matrix-$(1)-py$(2) \
	&& .venv-matrix-$(1)-py$(2)/bin/python -m pip install --quiet --upgrade pip \
	&& .venv-matrix-$(1)-py$(2)/bin/python -m pip install --quiet -c $(call constraints_for,$(1),$(2)) \
		"apache-airflow==$(1)" -e ".[$(4)]" \
	&& .venv-matrix-$(1)-py$(2)/bin/python -m pip check \
	&& echo $$$$(( $$$$(date +%s) - start )) > .venv-matrix-$(1)-py$(2)/.install-seconds \
	&& touch $$@

matrix-$(1)-py$(2): .venv-matrix-$(1)-py$(2)/.installed
	@mkdir -p $(MATRIX_OUT)
	@echo "matrix $(1)-py$(2): testing ($(5)), log in $(MATRIX_OUT)/$(1)-py$(2).log"
	@start=$$$$(date +%s); \
	.venv-matrix-$(1)-py$(2)/bin/python -m pytest $(5) -p no:cacheprovider $(PYTEST_ARGS) \
		> $(MATRIX_OUT)/$(1)-py$(2).log 2>&1; rc=$$$$?; \
	printf '%s\t%s\t%s\t%s\n' "$$$$rc" "$$$$(( $$$$(date +%s) - start ))" \
		"$$$$(cat .venv-matrix-$(1)-py$(2)/.install-seconds 2>/dev/null || echo '?')" \
		"$$$$(grep -E '^=+ .* in [0-9.]+s' $(MATRIX_OUT)/$(1)-py$(2).log | tail -n 1 | sed -E 's/^=+ //; s/ =+$$$$//')" \
		> $(MATRIX_OUT)/$(1)-py$(2).result; \
	exit $$$$rc
endef
$(foreach t,$(MATRIX_WHOLE),$(eval $(call matrix_target,$(word 1,$(subst -py, ,$(t))),$(word 2,$(subst -py, ,$(t))),$(PY$(subst .,,$(word 2,$(subst -py, ,$(t))))),test$(,)lint,)))
$(foreach t,$(MATRIX_AIRFLOW),$(eval $(call matrix_target,$(word 1,$(subst -py, ,$(t))),$(word 2,$(subst -py, ,$(t))),$(PY$(subst .,,$(word 2,$(subst -py, ,$(t))))),test,$(AIRFLOW_LEVEL_TESTS))))

# Every target runs (-k) in parallel; then one line per target. Any failed target, pytest's exit 5
# (no tests collected) included, or an environment that could not be built, fails make matrix.
# $(1) = the goal's name, $(2) = other test goals run in the same parallel graph (make ci), $(3) = jobs,
# $(4) = every goal of the graph in the order make starts them, $(5) = the checks among them (make ci).
define run_matrix
	@rm -rf $(MATRIX_OUT); mkdir -p $(MATRIX_OUT)
	@start=$$(date +%s); $(MAKE) --no-print-directory --output-sync=target -k -j$(3) $(4); graph=$$?; \
	total=$$(( $$(date +%s) - start )); failed=0; echo; echo "make $(1): $$total s wall time"; \
	if [ -n "$(2)" ]; then \
		if [ $$graph -ne 0 ]; then failed=1; echo "make $(1): a target of the graph failed (output above)"; \
		else echo "make $(1): $(2) passed"; fi; fi; \
	for t in $(MATRIX); do \
		if [ ! -f $(MATRIX_OUT)/$$t.result ]; then failed=1; \
			printf 'matrix %-14s FAIL  the virtualenv could not be built (output above)\n' "$$t"; continue; fi; \
		IFS="$$(printf '\t')" read -r rc secs venv summary < $(MATRIX_OUT)/$$t.result; \
		case "$$rc" in 0) verdict=PASS ;; 5) verdict="FAIL  pytest exit 5 (no tests collected):"; failed=1 ;; \
			*) verdict="FAIL  pytest exit $$rc:"; failed=1 ;; esac; \
		printf 'matrix %-14s %s %s (tests %ss, venv build %ss; log %s)\n' \
			"$$t" "$$verdict" "$${summary:-no summary}" "$$secs" "$$venv" "$(MATRIX_OUT)/$$t.log"; \
	done; \
	for c in $(5); do \
		if [ ! -f $(MATRIX_OUT)/check-$$c.result ]; then failed=1; \
			printf 'check  %-14s FAIL  did not run (output above)\n' "$$c"; continue; fi; \
		IFS="$$(printf '\t')" read -r rc secs < $(MATRIX_OUT)/check-$$c.result; \
		if [ "$$rc" = 0 ]; then verdict=PASS; else verdict="FAIL  exit $$rc"; failed=1; fi; \
		printf 'check  %-14s %s in %ss (log %s)\n' "$$c" "$$verdict" "$$secs" "$(MATRIX_OUT)/check-$$c.log"; \
	done; exit $$failed
endef

matrix:
	$(call run_matrix,matrix,,$(MATRIX_JOBS),$(addprefix matrix-,$(MATRIX)))

# CI (make ci, run by .ci/run): make test, make matrix and the checks as one graph of $(CI_JOBS) jobs, so
# that virtualenv builds (download- and IO-bound), sleeping tests and the short checks overlap with
# CPU-bound test runs. Longest first, as measured on a 2-core machine: Airflow 3.2's Airflow-level tests,
# then the whole suite on 3.3, ...; the checks last, on the cores the last test runs leave idle.
CI_ORDER := matrix-3.2.2-py3.11 test-af3 matrix-3.0.6-py3.11 matrix-3.3.2-py3.13 matrix-3.1.8-py3.11 \
	test-af2 matrix-2.11.2-py3.10 matrix-3.3.2-py3.12
$(if $(filter-out $(CI_ORDER),$(addprefix matrix-,$(MATRIX))),$(error CI_ORDER misses $(filter-out $(CI_ORDER),$(addprefix matrix-,$(MATRIX)))))
CI_CHECKS := lint typecheck docs dist

# check-<name>: make <name> with its output and exit status recorded beside the matrix's (.matrix/check-<name>.*).
# $(1) = the check, $(2) = what it needs built first (in the graph, so that two checks never build it twice).
define ci_check
check-$(1): $(2)
	@mkdir -p $(MATRIX_OUT); start=$$$$(date +%s); \
	$(MAKE) --no-print-directory $(1) > $(MATRIX_OUT)/check-$(1).log 2>&1; rc=$$$$?; \
	printf '%s\t%s\n' "$$$$rc" "$$$$(( $$$$(date +%s) - start ))" > $(MATRIX_OUT)/check-$(1).result; \
	echo "check $(1): exit $$$$rc"; tail -n 30 $(MATRIX_OUT)/check-$(1).log; exit $$$$rc
endef
$(eval $(call ci_check,lint,$(VENV3)/.installed))
$(eval $(call ci_check,typecheck,$(VENV3)/.installed))
$(eval $(call ci_check,docs,$(VENV3)/.tools-installed))
$(eval $(call ci_check,dist,$(VENV3)/.tools-installed))

ci:
	$(call run_matrix,ci,test-af3 test-af2,$(CI_JOBS),$(CI_ORDER) $(addprefix check-,$(CI_CHECKS)),$(CI_CHECKS))

# The tests of make ci alone.
ci-tests:
	$(call run_matrix,ci-tests,test-af3 test-af2,$(CI_JOBS),$(CI_ORDER))

test: test-af3 test-af2

# $(1) = venv dir, $(2) = name; prints the test seconds (CI reads them to size the matrix).
define test_in
	@start=$$(date +%s); $(1)/bin/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	echo "$(2): pytest exit $$rc in $$(( $$(date +%s) - start )) s"; exit $$rc
endef

test-af3: $(VENV3)/.installed
	$(call test_in,$(VENV3),test-af3)

test-af2: $(VENV2)/.installed
	$(call test_in,$(VENV2),test-af2)

# The real-triggerer end-to-end test alone (it is also part of make test).
e2e: $(VENV3)/.installed $(VENV2)/.installed
	$(VENV3)/bin/python -m pytest -m e2e $(PYTEST_ARGS)
	$(VENV2)/bin/python -m pytest -m e2e $(PYTEST_ARGS)

lint: $(VENV3)/.installed
	$(VENV3)/bin/ruff check airflow_provider_canvas_progress tests example_dags benchmarks docs scripts
	$(VENV3)/bin/ruff format --check airflow_provider_canvas_progress tests example_dags benchmarks docs scripts

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
	rm -rf $(VENV3) $(VENV2) .venv-matrix-* .venv-pip-cache $(MATRIX_OUT) .airflow-* build dist *.egg-info docs/_build
