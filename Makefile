# The two entry points of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test test-fast lint docs venv test-deps clean

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The project's own modules are compiled here, as pip compiles an installed package's: an editable install
# leaves that to the first import, which skips it where PYTHONDONTWRITEBYTECODE is set, and then every newsmon
# process (the crawl's and each extraction worker's) compiles the modules it imports anew. Incremental: only
# changed files are compiled again.
venv: $(VENV)/.installed
	$(PY) -m compileall -q crawler spiders pipelines

run: venv
	$(VENV)/bin/newsmon run

# The zh→en and ru→en translation models (Argos packages) from the Argos package index:
# needs the Internet once. Without them zh/ru items are stored untranslated (pending) until they are installed.
.PHONY: models
models: venv
	$(VENV)/bin/newsmon models install zh ru

# Browser tests of the HTML digest need Debian's chromium (no browser download: the machine is offline);
# the PostgreSQL state backend's tests start a server of their own from Debian's postgresql (tests/pgserver.py).
test-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi; }

test: venv test-deps
	$(PY) -m pytest -q

# The unit tier: every test but the end-to-end ones (loopback crawls, newsmon subprocesses, a browser).
test-fast: venv
	$(PY) -m pytest -q -m "not e2e"

# Lint, format and types (settings in pyproject.toml); CI runs it before the tests.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The generated references docs/cli.md and docs/config.md, written again from the code.
docs: venv
	$(PY) docs/generate.py

clean:
	rm -rf $(VENV) build *.egg-info
	find crawler spiders pipelines -name __pycache__ -prune -exec rm -rf {} +
