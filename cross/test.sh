#!/usr/bin/env bash
# Builds the crate's tests for TARGET (std from source) and runs them under
# qemu-user through cargo's runner (cross/test-runner.sh: qemu with a time limit).
#
#   cross/test.sh TARGET [extra cargo test args, e.g. -- --test-threads=1]
#
# Tests that exec the hagw binary (env!("CARGO_BIN_EXE_hagw")) need the
# kernel to run a foreign ELF. Where the kernel allows it (Linux >= 6.7),
# the run happens inside a user + mount namespace with a PRIVATE
# binfmt_misc instance that maps the target's ELF to qemu-*-static: nothing
# changes for the rest of the machine. Elsewhere (or HAGW_CROSS_BINFMT=0)
# those test files are left out. Always left out, with the reason printed:
#   * files that need root / network namespaces (ip netns, veth, AF_PACKET
#     on real interfaces): they test the host kernel, not the target CPU (and
#     a user namespace's root cannot create them).
# Doc tests are not built for foreign targets by cargo. Every test binary
# has a time limit (HAGW_TEST_TIMEOUT seconds, default 180; see
# cross/test-runner.sh): a hang fails that binary with a message.
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."
. cross/env.sh
t=$(full_target "${1:?usage: cross/test.sh TARGET}"); shift
# Backtraces make each panicking test take seconds under qemu.
unset RUST_BACKTRACE

qemu=$(runner_for "$t")
binfmt_file=/usr/share/binfmts/${qemu%-static}   # Debian's qemu-user-static
binfmt=0
if [ -n "${HAGW_IN_USERNS:-}" ]; then
  # Inside the namespace: private binfmt_misc, register the target's ELF.
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  magic=$(sed -n 's/^magic //p' "$binfmt_file"); mask=$(sed -n 's/^mask //p' "$binfmt_file")
  printf '%s' ":hagw-$t:M::$magic:$mask:$(command -v "$qemu"):F" > /proc/sys/fs/binfmt_misc/register
  binfmt=1
elif [ -n "$qemu" ] && [ "${HAGW_CROSS_BINFMT:-1}" = 1 ] && [ -r "$binfmt_file" ] &&
     unshare --user --map-root-user --mount sh -c \
       'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc' 2>/dev/null; then
  echo "cross-test: $t: running in a user namespace with a private binfmt_misc for $qemu"
  exec env HAGW_IN_USERNS=1 unshare --user --map-root-user --mount "$self" "$t" "$@"
fi

sel=(--lib)
for f in tests/*.rs; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .rs)
  if grep -qE 'netns|geteuid|needs root' "$f"; then why="needs root/namespaces"
  elif [ $binfmt = 0 ] && [ -n "$qemu" ] && grep -q 'CARGO_BIN_EXE' "$f"; then why="runs the hagw binary; no private binfmt_misc here"
  else sel+=(--test "$name"); echo "cross-test: $t: including $name"; continue; fi
  echo "cross-test: $t: leaving out $name ($why)"
done

# opt-level 1 (debug assertions and overflow checks stay on): the fuzz and
# simulator tests run several times faster under qemu. HAGW_TEST_OPT=0 for
# a plain debug build.
opt=${HAGW_TEST_OPT:-1}
start=$(date +%s)
cargo_args=() test_args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do cargo_args+=("$1"); shift; done
[ $# -gt 0 ] && shift && test_args=("$@")
if [ $binfmt = 1 ]; then
  # tcpdump drops privileges to its own uid, which the namespace does not map.
  echo "cross-test: $t: skipping tests named *tcpdump* (tcpdump cannot switch uid in the user namespace)"
  test_args+=(--skip tcpdump)
fi
# Each test binary runs through cross/test-runner.sh: qemu with a time
# limit (HAGW_TEST_TIMEOUT seconds, default 180), so a hang fails fast.
export HAGW_TEST_QEMU=$qemu HAGW_TEST_TIMEOUT=${HAGW_TEST_TIMEOUT:-180}
echo "cross-test: $t: each test binary limited to $HAGW_TEST_TIMEOUT s (HAGW_TEST_TIMEOUT)"
"${XCARGO[@]}" test --target "$t" -Zbuild-std --config "profile.dev.opt-level=$opt" \
  --config "target.$t.runner=\"$PWD/cross/test-runner.sh\"" \
  "${sel[@]}" "${cargo_args[@]}" -- "${test_args[@]}"
echo "cross-test: $t: passed in $(( $(date +%s) - start )) s (build + run under $(runner_for "$t"))"
