# CareLoop developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "CareLoop needs Python 3.11 or newer")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

.PHONY: install
install: $(STAMP) ## Create the virtualenv and install CareLoop with dev tools

.PHONY: run
run: install ## Migrate the embedded SQLite database, seed demo data, serve on http://127.0.0.1:8000
	$(BIN)/python -m backend migrate
	$(BIN)/python -m tools.demo
	$(BIN)/python -m backend serve --host $(HOST) --port $(PORT)

.PHONY: test
test: install ## Run every check, then the whole suite on SQLite and PostgreSQL side by side
	$(MAKE) --no-print-directory checks
	$(MAKE) --no-print-directory --jobs=2 --output-sync=target test-sqlite test-postgres

.PHONY: checks
checks: lint typecheck layers schema-check migrations-check ## Lint, types, layer rules, contract and migration drift

.PHONY: test-sqlite
test-sqlite: install ## The suite on the embedded SQLite database (Redis paths against REDIS_URL)
	TEST_DATABASE=sqlite TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: test-postgres
test-postgres: install ## The suite on PostgreSQL (a fresh database per run; required when CI=true)
	TEST_DATABASE=postgres TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff (lint and format check)
	$(BIN)/ruff check backend tests tools $(wildcard bench)
	$(BIN)/ruff format --check backend tests tools $(wildcard bench)

.PHONY: format
format: install ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix backend tests tools $(wildcard bench)
	$(BIN)/ruff format backend tests tools $(wildcard bench)

.PHONY: typecheck
typecheck: install ## mypy --strict on backend/ and tools/
	$(BIN)/mypy

.PHONY: layers
layers: install ## The floor plan's import rules (import-linter contracts in pyproject.toml)
	$(BIN)/lint-imports --no-cache

.PHONY: schema
schema: install ## Export mobile_contract/schema.graphql from the code
	$(BIN)/python -m backend schema export

.PHONY: schema-check
schema-check: install ## Fail when mobile_contract/schema.graphql differs from the code
	$(BIN)/python -m backend schema export --check

.PHONY: migrations-check
migrations-check: install ## Fail when the tables and the migrations disagree
	CARELOOP_VAR_DIR=$$(mktemp -d) $(BIN)/python -m backend migrations check

.PHONY: migration
migration: install ## Create an auto migration for table changes: make migration NAME=what_changed
	$(BIN)/python -m backend migrations new $(or $(NAME),change)

.PHONY: audit-verify
audit-verify: install ## Verify the audit log's hash chain
	$(BIN)/python -m backend audit verify

.PHONY: rotate-keys
rotate-keys: install ## Re-wrap data keys under DATA_KEYS_FILE's current version (restartable; BATCH_SIZE=200)
	$(BIN)/python -m backend keys rotate --batch-size $(or $(BATCH_SIZE),200)

.PHONY: clean
clean: ## Remove the virtualenv, caches and the local database
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

.PHONY: audit-graphql-http
audit-graphql-http: install ## Run graphql-http's GraphQL-over-HTTP conformance audit (needs node + npm)
	cd tools/graphql-http-audit && npm install --silent --no-audit --no-fund
	@$(BIN)/python -m backend migrate >/dev/null
	@$(BIN)/python -m backend serve --port 8799 > var/audit-server.log 2>&1 & echo $$! > var/audit-server.pid; \
	for i in $$(seq 50); do curl -sf http://127.0.0.1:8799/healthz >/dev/null && break; sleep 0.2; done; \
	node tools/graphql-http-audit/audit.mjs http://127.0.0.1:8799/graphql; status=$$?; \
	kill $$(cat var/audit-server.pid); exit $$status

.PHONY: bench-inbox
bench-inbox: install ## Inbox throughput: GraphQL vs a plain JSON endpoint over the same SQL (PostgreSQL)
	$(BIN)/python -m bench.inbox

.PHONY: bench-realtime
bench-realtime: install ## Realtime fan-out latency (1/100/1000 subscribers) and idle memory per connection vs plain WebSockets
	$(BIN)/python -m bench.realtime

.PHONY: bench-chat
bench-chat: install ## Secure-message latency (send → recipient's socket) at 50/200 msg/s vs a plain insert-and-push path
	$(BIN)/python -m bench.chat

.PHONY: bench-automation
bench-automation: install ## Automation: runner tick at 100k vs 10k open referrals, steps fired/s vs a plain asyncpg loop (PostgreSQL)
	$(BIN)/python -m bench.automation

.PHONY: worker
worker: install ## Push and e-mail dispatchers and the automation runner as their own process (run several; set PUSH_/EMAIL_DISPATCH_IN_PROCESS=false, AUTOMATION_IN_PROCESS=false on servers)
	$(BIN)/python -m backend worker

.PHONY: bench-push
bench-push: install ## Push dispatch throughput: the dispatcher (firebase-admin) vs a plain httpx HTTP/2 client, 5,000 pushes to the fake FCM
	$(BIN)/python -m bench.push

.PHONY: smtp
smtp: install ## Local SMTP catch-all on :8025 that prints every e-mail (then run with SMTP_HOST=127.0.0.1 SMTP_PORT=8025 SMTP_STARTTLS=false)
	$(BIN)/python -m aiosmtpd --nosetuid --class aiosmtpd.handlers.Debugging --listen 127.0.0.1:$(or $(SMTP_PORT),8025)

.PHONY: fake-fcm
fake-fcm: install ## Local fake of FCM + Google OAuth for developers on :8099 (FAKE_FCM_PORT=), writes var/fake-fcm-service-account.json
	$(BIN)/python -m tools.fake_fcm --port $(or $(FAKE_FCM_PORT),8099) --service-account-out var/fake-fcm-service-account.json
