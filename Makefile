# Two commands: `make run` sets up and starts the blog, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint clean translations bench highlight-css pyz

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-pyz: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[pyz]'
	touch $@

# One file to deploy: `python3 dist/blog.pyz serve` on Linux x86-64 (glibc 2.28+) with
# CPython 3.11 to 3.14; PYZ_PYTHONS="3.12" carries the compiled wheels of fewer versions.
PYZ ?= dist/blog.pyz
pyz: $(VENV)/.installed-pyz
	$(BIN)/python deploy/build_pyz.py --output $(PYZ) $(if $(PYZ_PYTHONS),--pythons "$(PYZ_PYTHONS)")

run: $(VENV)/.installed
	$(BIN)/blog init
	$(BIN)/blog serve

# The whole suite on SQLite, then again on PostgreSQL (a private server from Debian's
# postgresql package; without it that run says so and is skipped, except in CI). Each run
# spreads the tests over TEST_WORKERS processes (pytest-xdist), a module's tests in one of
# them so its module fixtures (a deployed site, a server) start once; many tests wait on a
# browser or a process, so two workers finish sooner even on two cores.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadscope
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)
	$(BIN)/python -m pytest $(XDIST) --database postgresql $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check blog tests benchmarks
	$(BIN)/ruff format --check blog tests benchmarks

# Load benchmark, not run in CI: `make bench BENCH_ARGS="--posts 100000"`; needs Debian's wrk.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

# Extract user-facing strings, merge them into the Korean catalogue, compile it.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header -o blog/translations/messages.pot .
	$(BIN)/pybabel update -i blog/translations/messages.pot -d blog/translations -l ko --no-fuzzy-matching --width 100
	$(BIN)/pybabel compile -d blog/translations -l ko

# The colours of highlighted code (Pygments styles, light and dark): static/css/highlight.css.
highlight-css: $(VENV)/.installed
	$(BIN)/python -m blog.highlight_css

clean:
	rm -rf $(VENV) test-output .pytest_cache build dist
