# hagw — build, test, demo. `make test` is what CI runs (through .ci/run).
CARGO ?= cargo

.PHONY: all build test test-all lint demo clean bench
all: build

build:
	$(CARGO) build --release
	@ls -l target/release/hagw

# Every test: unit, simulator, config examples, wire vectors, and (as root)
# the network-namespace and interop tests.
test: lint
	$(CARGO) test --all-targets --no-fail-fast

# What CI runs: every host test, the unit/simulator tests on big-endian MIPS
# under qemu-user, the five checked static firmware binaries, and two
# emulated MIPS routers failing over on a real MIPS kernel.
test-all: test fuzz-smoke test-cross-mips cross test-mips-system

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

clean:
	$(CARGO) clean

# Dataplane benchmarks, one table at the end (tests/benches/bench.sh; the
# namespace part needs root and iperf3; builds the static x86_64 and mipsel
# binaries first if dist/ lacks them). Not part of `make test` or CI.
.PHONY: bench
bench:
	tests/benches/bench.sh


# libFuzzer targets for every outside input (tests/fuzz; issue 8), built
# with the nightly toolchain and cargo-fuzz (.ci/run installs both), debug
# assertions on (overflow is a crash), no sanitizer (safe Rust). Replay
# and regressions: tests/fuzz_regressions.rs (part of `make test`).
# make fuzz-smoke: every target ~30 s (CI); make fuzz FUZZ_SECONDS=3600
# (FUZZ_RUNS=N: also stop each target after N execs).
FUZZ_TARGETS ?= engine vrrp sync bfd config control netlink
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 30
.PHONY: fuzz fuzz-smoke fuzz-build
fuzz-build:
	$(CARGO) +nightly fuzz build -a -s none --fuzz-dir tests/fuzz --target-dir target/fuzz

fuzz-smoke: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz: fuzz-build
	FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Random faults in the simulator, invariants after every step (issue 8):
# make chaos SEEDS=10000 [FIRST=1]. CI runs 40 seeds inside `make test`.
SEEDS ?= 1000
FIRST ?= 1
.PHONY: chaos
chaos:
	HAGW_CHAOS_SEEDS=$(SEEDS) HAGW_CHAOS_FIRST=$(FIRST) $(CARGO) test --release --test sim_chaos -- --nocapture

# The product demo (needs root): client, two routers with conntrack sync,
# server; a download survives the master's death (tests/demo.sh).
demo:
	$(CARGO) build
	./tests/demo.sh

# ---- firmware: cross builds, size, tests under qemu, OpenWrt package ----
# (cross/README.md explains; board/README.md covers installing on a router)
CROSS_TARGETS ?= x86_64-unknown-linux-musl aarch64-unknown-linux-musl \
                 armv7-unknown-linux-musleabihf mipsel-unknown-linux-musl mips-unknown-linux-musl
# make ipk TARGET=mipsel-unknown-linux-musl [BIN=path/to/hagw]
TARGET ?= x86_64-unknown-linux-musl
BIN ?=

.PHONY: cross-setup cross size test-cross ipk test-firmware
cross-setup:
	cross/setup.sh

# One target at a time (the machine is small); each is checked: static, and
# `hagw version` under qemu prints its triple.
cross: cross-setup
	@for t in $(CROSS_TARGETS); do cross/build.sh $$t || exit 1; done
	@cross/size.sh $(CROSS_TARGETS)

cross-%: cross-setup
	cross/build.sh $*

size:
	@cross/size.sh $(CROSS_TARGETS)

# The crate's tests built for big-endian MIPS and armv7 and run under
# qemu-user (a private binfmt_misc in a user namespace lets tests exec the
# foreign hagw binary; tests needing root/namespaces are left out:
# cross/test.sh prints which and why).
test-cross: test-cross-mips test-cross-armv7
test-cross-%: cross-setup
	cross/test.sh $*

ipk:
	cross/ipk.sh $(TARGET) $(BIN)

# Two emulated MIPS Malta routers (qemu-system-mipsel, Debian's 4kc-malta
# kernel and busybox, fetched into target/mips-lab by tests/mips/fetch.sh)
# run the mipsel firmware binary; a client namespace pings the VIP, the
# master's qemu is SIGKILLed, the backup takes over (tests/mips_system.rs,
# needs root; README "MIPS lab").
.PHONY: test-mips-system
test-mips-system: cross-mipsel
	HAGW_MIPS_LAB=1 $(CARGO) test --test mips_system -- --nocapture

# The firmware tests alone (also part of `make test`: tests/firmware_*.rs).
test-firmware:
	$(CARGO) test --test 'firmware_*'
