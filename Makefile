# The two commands a newcomer needs: `make up` (a local mail server) and
# `make test` (every test, end to end included). Both start a Docker engine
# first when none answers (on Debian as root: installs docker.io).

NPM_STAMP := node_modules/.package-lock.json

.PHONY: install up down test test-unit test-e2e engine test-tools build bench clean

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

dist/cli/main.js: $(shell find src -name '*.ts') | $(NPM_STAMP)
	npx tsc -p tsconfig.json

install: dist/cli/main.js

engine:
	@./scripts/ensure-engine.sh

test-tools:
	@./scripts/ensure-test-tools.sh

build: install engine
	./bin/mailctl.js build

up: install engine
	./bin/mailctl.js up

down: install
	./bin/mailctl.js down

test: install engine test-tools
	npx tsc -p tsconfig.test.json
	npx ava test/unit
	npx ava --serial --concurrency=1 test/e2e

test-unit: install
	npx tsc -p tsconfig.test.json
	npx ava test/unit

test-e2e: install engine test-tools
	npx ava --serial --concurrency=1 test/e2e

bench: install engine
	npm run bench

clean:
	rm -rf dist
