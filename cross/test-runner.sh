#!/usr/bin/env bash
# cargo's runner for cross/test.sh: runs ONE test binary (under qemu-user
# for a foreign target) with a time limit, so a hang fails that binary with
# a clear message instead of stalling the whole CI run.
#   HAGW_TEST_QEMU     qemu-*-static for the target (empty: run natively)
#   HAGW_TEST_TIMEOUT  seconds per test binary (default 180; the slowest,
#                      wire_fuzz, takes well under a minute warm)
# `timeout` puts itself in its own process group and signals all of it, so
# daemons a test started go too (SIGTERM, SIGKILL 10 s later).
set -u
limit=${HAGW_TEST_TIMEOUT:-180}
start=$SECONDS
timeout -k 10 "$limit" ${HAGW_TEST_QEMU:+"$HAGW_TEST_QEMU"} "$@"
rc=$?
if [ $rc -eq 124 ] || { [ $rc -eq 137 ] && [ $((SECONDS - start)) -ge "$limit" ]; }; then
  echo "cross-test: TIMEOUT: $(basename "$1") ran longer than $limit s${HAGW_TEST_QEMU:+ under $HAGW_TEST_QEMU} and was killed (hung?). HAGW_TEST_TIMEOUT=SECONDS changes the limit." >&2
fi
exit $rc
