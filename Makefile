# Commlog developer entry points. The local stack (PostgreSQL, RabbitMQ, and
# for the tests Dovecot, a RabbitMQ cluster, a PostgreSQL standby and PgBouncer)
# runs as plain processes with data under .data/: see deploy/local/stack.sh.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

STACK := deploy/local/stack.sh
# The benchmarks' build: release, the Swift runtime linked in, as deploy/Dockerfile builds what is deployed
# (the programs' resident memory depends on it: linked as shared libraries, the runtime adds about 4 MB to each).
RELEASE := swift build -c release --static-swift-stdlib
# The Swift toolchain is not a Debian package: say so before anything else fails for want of it.
SWIFT_CHECK := command -v swift >/dev/null || { echo "Swift 6 is not installed (swift is not on PATH): install the toolchain for Debian 12 from https://www.swift.org/install/linux/ and put its usr/bin on PATH, then run this again." >&2; exit 1; }

.PHONY: run stop stack-up stack-down stack-status build test fuzz-api bench-ingest bench-query bench-mail bench-import chaos clean-data

## Everything in the foreground (Ctrl-C or `make stop` to stop).
run:
	@$(SWIFT_CHECK)
	deploy/local/run.sh

stop:
	deploy/local/stop.sh

stack-up:
	$(STACK) up

stack-down:
	$(STACK) down

stack-status:
	$(STACK) status

build:
	swift build

## The stack (with Dovecot, PostgreSQL without fsync, a three-node RabbitMQ cluster beside the single broker,
## a streaming standby and PgBouncer), a build, migrations, then
## the tests, which read COMMLOG_* from the environment (.data/stack.env). The Python
## tools (validators, Twilio's signature check, schemathesis) come from .data/tools-venv
## (deploy/local/python-tools.sh), first on PATH. The compose file and the Kubernetes base are checked offline
## (validate-compose.py, validate-kubernetes.py: schemas bundled with their Python packages).
## Suites named "Disruptive" (they restart the broker) run on their own, then the
## browser tests (Tests/Browser/run.sh: pytest, Selenium, headless Chromium), then the fuzzer.
## The stack is left running; `make stack-down` stops it.
test: export PATH := $(CURDIR)/.data/tools-venv/bin:$(PATH)
test:
	@$(SWIFT_CHECK)
	$(STACK) up --with-dovecot --fast --cluster --replica --pgbouncer
	deploy/local/python-tools.sh >/dev/null
	python3 docs/validate-asyncapi.py
	python3 deploy/validate-compose.py
	python3 deploy/validate-kubernetes.py
	command -v promtool >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null
	promtool check rules deploy/prometheus/alerts.yml
	python3 deploy/check-monitoring.py
	swift build --build-tests
	bin="$$(swift build --show-bin-path)"; \
	set -a; . .data/stack.env; set +a; \
	"$$bin/commlog" migrate
	bin="$$(swift build --show-bin-path)"; \
	set -a; . .data/stack.env; COMMLOG_BIN="$$bin"; set +a; \
	swift test --skip-build --skip Disruptive
	bin="$$(swift build --show-bin-path)"; \
	set -a; . .data/stack.env; COMMLOG_BIN="$$bin"; set +a; \
	swift test --skip-build --filter Disruptive
	bin="$$(swift build --show-bin-path)"; \
	set -a; . .data/stack.env; COMMLOG_BIN="$$bin"; set +a; \
	Tests/Browser/run.sh
	COMMLOG_BIN="$$(swift build --show-bin-path)" $(MAKE) --no-print-directory chaos-run N=300 ROUNDS=1
	COMMLOG_BIN="$$(swift build --show-bin-path)" FUZZ_SEED=20261125 FUZZ_EXAMPLES=30 Tests/Fuzz/fuzz-query-api.sh

## Fuzzes query-api against openapi.yaml with schemathesis (random seed; FUZZ_SEED, FUZZ_EXAMPLES).
fuzz-api:
	$(STACK) up
	for product in query-api commlog; do swift build --product $$product; done
	Tests/Fuzz/fuzz-query-api.sh

# A stack left up by `make test` runs PostgreSQL with fsync off (--fast): its figures would not be a durable server's.
DURABILITY_CHECK = set -a; . .data/stack.env; set +a; \
	if [ "$$(psql -X -q "$$COMMLOG_DATABASE_OWNER_URL" -tAc 'SHOW fsync')" != on ]; then \
	echo "WARNING: PostgreSQL runs with fsync off (the stack was started with --fast, as make test leaves it): these figures are not a durable server's; make stack-down first" >&2; fi

## The ingest benchmark (release build): end to end against raw COPY and raw AMQP.
## EVENTS=100000 by default. Uses the stack with PostgreSQL's default durability.
bench-ingest:
	$(STACK) up
	for product in reminder-logger commlog commlog-bench; do $(RELEASE) --product $$product; done
	bin="$$($(RELEASE) --show-bin-path)"; \
	set -a; . .data/stack.env; COMMLOG_BIN="$$bin"; set +a; \
	"$$bin/commlog" migrate
	@# Another consumer of the practice queue (a `make run` left up) would take half the events and halve the figures.
	others="$$($(STACK) rabbitmqctl list_consumers -p commlog --quiet --no-table-headers 2>/dev/null | awk '$$1 == "reminder-logger.practice"' | wc -l)"; \
	if [ "$$others" -gt 0 ]; then echo "bench-ingest: $$others other consumer(s) of reminder-logger.practice (make stop first): the figures would be wrong" >&2; exit 1; fi
	@$(DURABILITY_CHECK)
	bin="$$($(RELEASE) --show-bin-path)"; \
	set -a; . .data/stack.env; COMMLOG_BIN="$$bin"; set +a; \
	"$$bin/commlog-bench" ingest $${EVENTS:-100000}

## The query benchmark (release build): query-api against the same SQL through pgbench, on
## ENTRIES=10000000 entries seeded once into the database commlog_bench. Needs wrk (installed if missing).
bench-query:
	$(STACK) up
	command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
	for product in query-api commlog; do $(RELEASE) --product $$product; done
	COMMLOG_BIN="$$($(RELEASE) --show-bin-path)" Benchmarks/Query/bench-query.sh

## The fault figures (Benchmarks/Chaos/chaos.py): each fault (kill -9 of each consumer, a cluster node stopped, the
## broker, PostgreSQL and Dovecot restarted, the webhook during a broker outage) while N events (2000) flow, ROUNDS (3)
## kills per program; prints one table (fault, sent, logged, lost, duplicated, seconds until back to 90 %) and fails
## when a row lost or duplicated anything. Uses the running stack (started with --with-dovecot --cluster when
## not; it warns when PostgreSQL runs --fast, as under make test) and COMMLOG_BIN, else the debug build.
## `make test` runs it last but one with N=300 ROUNDS=1.
chaos:
	@if [[ ! -s .data/stack.env ]] || ! grep -q '^COMMLOG_TEST_CLUSTER_AMQP_URL=' .data/stack.env || ! grep -q '^COMMLOG_TEST_IMAP_USER=' .data/stack.env; then \
	  $(STACK) up --with-dovecot --cluster; fi
	@if [[ -z "$${COMMLOG_BIN:-}" ]]; then $(SWIFT_CHECK); swift build; fi
	bin="$${COMMLOG_BIN:-$$(swift build --show-bin-path 2>/dev/null)}"; \
	set -a; . .data/stack.env; set +a; \
	"$$bin/commlog" migrate >/dev/null && \
	COMMLOG_BIN="$$bin" $(MAKE) --no-print-directory chaos-run N=$(N) ROUNDS=$(ROUNDS)

N ?= 2000
ROUNDS ?= 3
# (the script alone, on the stack as it is)
chaos-run:
	tools="$$(deploy/local/python-tools.sh)"; \
	"$$tools/python" Benchmarks/Chaos/chaos.py --events $(N) --rounds $(ROUNDS)

## The mailbox import benchmark (release build): first sync of a folder of MESSAGES (10000) messages written like a practice's mail
## (14 KB on average: text, HTML, PDF and image attachments) on the local Dovecot, against mbsync copying the same
## folder to a Maildir; prints email-ingestor's resident memory too.
bench-mail:
	$(STACK) up --with-dovecot
	@$(DURABILITY_CHECK)
	for product in email-ingestor commlog commlog-bench; do $(RELEASE) --product $$product; done
	bin="$$($(RELEASE) --show-bin-path)"; \
	set -a; . .data/stack.env; COMMLOG_BIN="$$bin"; set +a; \
	"$$bin/commlog" migrate && "$$bin/commlog-bench" mail $${MESSAGES:-10000}

## The legacy notes import benchmark (release build): `commlog import notes` of ROWS (1000000) notes, a CSV
## generated once under .data/bench-import/, against raw COPY of the same rows, in the database commlog_import_bench.
bench-import:
	$(STACK) up
	$(RELEASE) --product commlog
	bin="$$($(RELEASE) --show-bin-path)"; \
	set -a; . .data/stack.env; COMMLOG_BIN="$$bin"; set +a; \
	Benchmarks/Import/bench-import.sh

## Stops the stack and deletes all local data, including PostgreSQL's and
## Dovecot's fallback folder under /var/tmp (used when .data is not reachable
## by their users; recorded in .data/state-dir).
clean-data:
	$(STACK) down
	recorded="$$(cat .data/state-dir 2>/dev/null || true)"; \
	fallback="/var/tmp/commlog-$$(printf '%s' "$$(pwd -P)" | sha256sum | cut -c1-12)"; \
	for dir in "$$recorded" "$$fallback"; do \
	  case "$$dir" in /var/tmp/commlog-*) rm -rf "$$dir" ;; esac; \
	done
	rm -rf .data
