# hagw — build, test, demo. `make test` is what CI runs (through .ci/run).
CARGO ?= cargo

.PHONY: all build test lint demo clean
all: build

build:
	$(CARGO) build --release
	@ls -l target/release/hagw

# Every test: unit, simulator, config examples, wire vectors, and (as root)
# the network-namespace and interop tests.
test: lint
	$(CARGO) test --all-targets

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

clean:
	$(CARGO) clean

# Two hagw routers and a client in namespaces: failover demo (needs root).
demo:
	$(CARGO) build
	./tests/demo.sh
