# Two commands: `make serve` (embedded: SQLite, in-process bus and workers) and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install serve worker services browser test lint unit bench bench-quick bench-soak clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

serve: install
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gatehouse serve

worker: install
	$(VENV)/bin/gatehouse worker

# PostgreSQL and Redis for the tests and the benchmark: started only if they are down.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 0.2; done; echo "services did not start"; exit 1

# Chromium for the console's browser tests (tests/console), from Debian, only when it is missing;
# where it cannot be installed those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium could not be installed: the browser tests in tests/console will skip"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: install services browser lint
	$(VENV)/bin/pytest

bench: install services
	$(PY) -m bench.run --gatehouse

bench-quick: install services
	$(PY) -m bench.run --gatehouse --quick

# 10 minutes of steady load; memory of the server and the worker must end within 10% of minute one.
bench-soak: install services
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	$(PY) -m bench.soak

clean:
	rm -rf $(VENV) gatehouse.db
