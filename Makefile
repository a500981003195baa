# The two commands of the README: `make run` and `make test`. Both first run
# scripts/setup.sh, which installs what is missing and skips the rest.
SHELL := bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
ADDR ?= 127.0.0.1:8080

.PHONY: run test setup build dev clean bench

## Build the release app and serve it with the model proxy at http://$(ADDR).
run: build
	@echo "Confab: open http://$(ADDR) (offline demo model unless CONFAB_UPSTREAM_URL is set; Ctrl+C stops)"
	target/release/confab-proxy --listen $(ADDR) --dist dist

## Run every test: host, browser (headless Chromium) and end-to-end.
test: setup
	scripts/test.sh

setup:
	@scripts/setup.sh

## Benchmarks that print figures (README, Figures): bundle size (and what
## the stack alone weighs), storage (startup with a large history, writes
## per reply), rendering, proxy load.
bench: build
	scripts/bundle-size.sh
	scripts/bundle-breakdown.sh
	scripts/bundle-floor.sh
	scripts/bench-storage.sh
	scripts/bench-ui.sh
	scripts/bench-proxy.sh

build: setup
	scripts/build-release.sh

## Development: trunk serve (rebuilds on change) at :8080, proxy at :8081.
dev: setup
	cargo build -p confab-proxy
	target/debug/confab-proxy --listen 127.0.0.1:8081 & pid=$$!; \
	trap "kill $$pid" EXIT; trunk serve --offline

clean:
	cargo clean
	rm -rf dist
