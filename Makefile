# The two entry points of the README: `make run` and `make test`.
# argostranslate is installed without its dependencies on purpose: its package module (model management)
# needs only sentencepiece and packaging, while its declared dependencies pull stanza, spacy and torch
# (1.6–5.9 GB). newsmon runs the models through ctranslate2 + sentencepiece directly.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARGOS := argostranslate==1.11.0

.PHONY: run test venv test-deps clean

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps '$(ARGOS)'
	touch $@

venv: $(VENV)/.installed

run: venv
	$(VENV)/bin/newsmon run

# The zh→en and ru→en translation models (Argos packages) from the Argos package index:
# needs the Internet once. Without them zh/ru items are stored untranslated (pending) until they are installed.
.PHONY: models
models: venv
	$(VENV)/bin/newsmon models install zh ru

# Browser tests of the HTML digest need Debian's chromium (no browser download: the machine is offline).
test-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

test: venv test-deps
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
