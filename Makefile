# Hotline's two commands: `make demo` runs the product on the embedded default, `make test` runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install demo test lint bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# SQLite file in the project folder, no Redis: tasks run in-process and a thread plays the demo outage live.
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --fresh
	DEBUG=false $(PY) manage.py run_demo 127.0.0.1:8000

# Runs on whatever DATABASE_URL / REDIS_URL say (unset: SQLite, and the PostgreSQL/Redis tests are skipped).
test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) hotline.sqlite3 staticfiles .pytest_cache .ruff_cache
