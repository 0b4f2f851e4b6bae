#!/usr/bin/env bash
# Builds the crate's tests for TARGET (std from source) and runs them under
# qemu-user through the cargo runner in .cargo/config.toml.
#
#   cross/test.sh TARGET [extra cargo test args, e.g. -- --test-threads=1]
#
# Which tests: the library's unit tests (--lib) and every tests/*.rs that
# runs in-process. Left out, with the reason printed:
#   * files that use env!("CARGO_BIN_EXE_hagw"): they would exec the foreign
#     hagw binary directly, which fails without binfmt_misc handlers (none are
#     registered here, and registering them is a machine-wide change);
#   * files that need root / network namespaces (ip netns, veth, AF_PACKET on
#     real interfaces): they test the host kernel, not the target CPU;
#   * files that spawn other programs (Command::new): host tools, not target code.
# Doc tests are not built for foreign targets by cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
. cross/env.sh
t=$(full_target "${1:?usage: cross/test.sh TARGET}"); shift
# Backtraces make each panicking test take seconds under qemu.
unset RUST_BACKTRACE

sel=(--lib)
for f in tests/*.rs; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .rs)
  if grep -q 'CARGO_BIN_EXE' "$f"; then why="runs the hagw binary"
  elif grep -qE 'netns|geteuid|needs root' "$f"; then why="needs root/namespaces"
  elif grep -q 'Command::new' "$f"; then why="spawns host programs"
  else sel+=(--test "$name"); echo "cross-test: $t: including $name"; continue; fi
  echo "cross-test: $t: leaving out $name ($why)"
done

# opt-level 1 (debug assertions and overflow checks stay on): the fuzz and
# simulator tests run several times faster under qemu. HAGW_TEST_OPT=0 for
# a plain debug build.
opt=${HAGW_TEST_OPT:-1}
start=$(date +%s)
"${XCARGO[@]}" test --target "$t" -Zbuild-std --config "profile.dev.opt-level=$opt" "${sel[@]}" "$@"
echo "cross-test: $t: passed in $(( $(date +%s) - start )) s (build + run under $(runner_for "$t"))"
