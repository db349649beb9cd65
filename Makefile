# Jeturing Core — two commands: `make run` and `make test`.
# Every target installs what it needs (Python venv, npm packages, Debian packages).

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
FRONTEND := frontend
NODE_STAMP := $(FRONTEND)/node_modules/.installed
TEST_DATABASE_URL ?=
export TEST_DATABASE_URL

.PHONY: run serve test test-py test-frontend test-e2e test-lighthouse lint typecheck frontend openapi bench clean deps system-deps odoo-deps

run: $(STAMP) frontend ## Serve the control plane with the lab (emulated vendors) on http://127.0.0.1:4443
	$(BIN)/erp-core serve --lab

serve: $(STAMP) frontend ## Production mode: real vendors from the environment
	$(BIN)/erp-core serve

deps: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

system-deps: ## Debian packages the tests need (chromium for the UI tests, openssh-server)
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	test -x /usr/sbin/sshd || missing="$$missing openssh-server"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null; \
	fi

# A real Odoo 19 for the tests (tests/real_odoo, tests/host_mode): its tree comes from ODOO_SOURCE
# (read-only, never written to); its Python dependencies live in a venv cached outside the
# repository's tracked files, keyed by the requirements file so a new Odoo tree gets a new venv.
ODOO_SOURCE ?= $(abspath ../shared/odoo)
export ODOO_SOURCE
ODOO_REQS := $(ODOO_SOURCE)/19.0/requirements.txt
ODOO_VENV_CACHE ?= $(HOME)/.cache/erp-core
ODOO_VENV = $(ODOO_VENV_CACHE)/odoo-venv-$(shell cksum $(ODOO_REQS) 2>/dev/null | cut -d' ' -f1)

odoo-deps: ## Debian headers for python-ldap and a cached venv with Odoo's requirements.txt
	@if [ ! -f "$(ODOO_REQS)" ]; then \
	  echo "Odoo tree not found at ODOO_SOURCE=$(ODOO_SOURCE): set ODOO_SOURCE to a folder holding 19.0/ and stub-addons/ (see tests/real_odoo/README.md)"; \
	  exit 0; \
	fi; \
	if [ ! -f "$(ODOO_VENV)/.ready" ]; then \
	  missing=""; \
	  test -f /usr/include/ldap.h || missing="$$missing libldap2-dev"; \
	  test -f /usr/include/sasl/sasl.h || missing="$$missing libsasl2-dev"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null; \
	  fi; \
	  rm -rf "$(ODOO_VENV)" && mkdir -p "$(ODOO_VENV_CACHE)" && \
	  $(PY) -m venv "$(ODOO_VENV)" && \
	  "$(ODOO_VENV)/bin/pip" install -q --disable-pip-version-check -r "$(ODOO_REQS)" && \
	  touch "$(ODOO_VENV)/.ready"; \
	fi

$(NODE_STAMP): $(FRONTEND)/package-lock.json
	@# npm ci only: it never rewrites the tracked lock file (a fallback to `npm install` did).
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

frontend: ## Build the SPA when its sources changed
	@if [ -f $(FRONTEND)/package.json ]; then \
	  $(MAKE) --no-print-directory $(NODE_STAMP) && \
	  if [ ! -f $(FRONTEND)/build/index.html ] || [ -n "$$(find $(FRONTEND)/src $(FRONTEND)/static $(FRONTEND)/package.json $(FRONTEND)/svelte.config.js $(FRONTEND)/vite.config.ts -newer $(FRONTEND)/build/index.html 2>/dev/null | head -1)" ]; then \
	    cd $(FRONTEND) && npm run build --silent; \
	  fi; \
	fi

openapi: $(STAMP) ## Regenerate the OpenAPI document and the frontend's types
	@mkdir -p var
	$(BIN)/erp-core openapi -o var/openapi.json
	@if [ -f $(FRONTEND)/package.json ]; then $(MAKE) --no-print-directory $(NODE_STAMP) && cd $(FRONTEND) && npm run --silent gen:api; fi

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests bench)
	$(BIN)/ruff format --check $(wildcard src tests bench)

typecheck: $(STAMP)
	$(BIN)/mypy

# Two pytest-xdist workers: the real-Odoo tests (one Odoo, fixed database names) stay together
# on one of them (tests/conftest.py groups them), everything else is shared out. On this 2-core
# machine that cuts the suite from ~12 to ~8 minutes; PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
test-py: $(STAMP) system-deps odoo-deps
	ODOO_PYTHON=$(ODOO_VENV)/bin/python $(BIN)/pytest --durations=25 $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS))

test-frontend: $(STAMP)
	@if [ -f $(FRONTEND)/package.json ]; then \
	  $(MAKE) --no-print-directory $(NODE_STAMP) openapi && \
	  git diff --exit-code -- $(FRONTEND)/src/lib/api/schema.d.ts || { echo "schema.d.ts is stale: run 'make openapi' and commit it"; exit 1; }; \
	  cd $(FRONTEND) && npm run --silent lint:colors && npm run --silent lint:api && npm run --silent check && npm run --silent test:unit && npm run --silent build && npm run --silent check:bundle; \
	fi

test-e2e: $(STAMP) system-deps frontend
	@if [ -f tests/e2e_runner.py ] && [ -f $(FRONTEND)/playwright.config.ts ]; then $(BIN)/python tests/e2e_runner.py; fi

test-lighthouse: $(STAMP) system-deps frontend ## Lighthouse scores of five pages on `serve --lab` (issue 19 thresholds)
	$(BIN)/python tests/lighthouse_runner.py

test: $(STAMP) system-deps odoo-deps lint typecheck test-frontend test-py test-e2e test-lighthouse ## The whole suite (what CI runs)

bench: $(STAMP) frontend ## Benchmarks with ratios against in-run baselines (see docs/benchmarks.md)
	@for b in dashboard listing provisioning webhooks billing backup_memory reconciliation; do \
	  $(BIN)/python bench/bench_$$b.py || exit 1; \
	done

clean:
	rm -rf $(VENV) var/test-pg $(FRONTEND)/node_modules $(FRONTEND)/build
