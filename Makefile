# The two commands of the README: `make run` and `make test`. Both first run
# scripts/setup.sh, which installs what is missing and skips the rest.
#
# PATH is set here and nowhere else: binaryen's wasm-opt and Playwright from
# node_modules/.bin (before Debian's wasm-opt, which breaks release builds),
# trunk and wasm-bindgen from ~/.cargo/bin. Every script in scripts/ runs
# through a target below; run on its own, it stops and names its target.
SHELL := bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
ADDR ?= 127.0.0.1:8080
# `make bundle-breakdown TOP=20` also lists the 20 largest functions.
TOP ?= 0

FIGURES := bundle-size bundle-breakdown bundle-floor bench-storage bench-ui bench-proxy bench-delivery
.PHONY: run test setup build dev clean bench screenshots $(FIGURES)

## Build the release app and serve it with the model proxy at http://$(ADDR).
run: build
	@echo "Confab: open http://$(ADDR) (offline demo model unless CONFAB_UPSTREAM_URL is set; Ctrl+C stops)"
	target/release/confab-proxy --listen $(ADDR) --dist dist

## Run every test: host, browser (headless Chromium) and end-to-end.
test: setup
	scripts/test.sh

setup:
	@scripts/setup.sh

## The release app in dist/ (the pinned nightly, scripts/release-toolchain;
## the main wasm split into chunks loaded on first use) and
## target/release/confab-proxy.
build: setup
	scripts/build-release.sh

## Benchmarks that print figures (README, Figures): bundle size, where its
## code goes, what the stack alone weighs, storage (startup with a large
## history, writes per reply), rendering, proxy load, delivery (bytes on the
## wire and time to a usable page, beside adk web). Each also on its own.
bench: $(FIGURES)

bundle-size bundle-floor screenshots: build
	scripts/$@.sh

bundle-breakdown: build
	scripts/bundle-breakdown.sh $(TOP)

bench-storage bench-ui bench-proxy bench-delivery: build
	scripts/bench.sh $(@:bench-%=%)

## Development: trunk serve (rebuilds on change) at :8090, proxy at :8081
## (not make run's :8080: its service worker would serve that origin stale).
dev: setup
	cargo build -p confab-proxy
	target/debug/confab-proxy --listen 127.0.0.1:8081 & pid=$$!; \
	trap "kill $$pid" EXIT; trunk serve --offline

clean:
	cargo clean
	rm -rf dist
