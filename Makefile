# The two quick-start commands: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install clean

# Serve on http://127.0.0.1:$(PORT) with the demo data and the scheduler beside it: `make demo PORT=8000`.
PORT ?= 5000
demo: $(VENV)/.installed
	$(BIN)/xuncha dev --port $(PORT)

# The whole suite; set XUNCHA_TEST_DATABASE_URL=postgresql://... to run it on PostgreSQL.
test: $(VENV)/.installed
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
