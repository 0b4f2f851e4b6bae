#!/usr/bin/env bash
# Instructions per established-flow packet through Engine::handle_frame,
# counted by valgrind's callgrind (deterministic, unlike time on a shared
# machine). The dataplane bench (tests/benches/dataplane.rs) sets up 10k
# SNAT'd TCP sessions and then sends N packets (alternating LAN→WAN and
# WAN→LAN) through `callgrind_loop`; only that function and its callees
# are counted (--toggle-collect). Run with N and 2N: the difference / N is
# the cost per packet independent of anything else, and handle_frame's
# inclusive count / N excludes the harness (frame copy, loop).
# Writes target/bench/callgrind.{N}.out and callgrind-top.txt (the functions
# by exclusive and inclusive instructions, for "where the time goes"),
# prints "table:" rows for tests/benches/bench.sh.
# Usage: tests/benches/callgrind.sh [N]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20000}
command -v valgrind >/dev/null || { echo "callgrind: skipped, needs valgrind"; exit 0; }
bin=$(cargo bench --bench dataplane --no-run 2>&1 | sed -n 's/^ *Executable .*(\(.*\))$/\1/p' | tail -1)
[ -x "$bin" ] || { echo "callgrind: no bench binary" >&2; exit 1; }
out=target/bench
mkdir -p "$out"
total() { sed -n 's/^totals: *//p' "$1" | awk '{print $1}'; }
for k in 1 2; do
  valgrind --tool=callgrind --toggle-collect='*callgrind_loop*' \
    --callgrind-out-file="$out/callgrind.$((k * n)).out" "$bin" callgrind $((k * n)) \
    >"$out/callgrind.$((k * n)).log" 2>&1 || { cat "$out/callgrind.$((k * n)).log" >&2; exit 1; }
done
i1=$(total "$out/callgrind.$n.out")
i2=$(total "$out/callgrind.$((2 * n)).out")
per=$(( (i2 - i1) / n ))
f="$out/callgrind.$((2 * n)).out"
{
  echo "== exclusive (self) instructions, $((2 * n)) packets =="
  # `|| true`: head closing the pipe early (long annotations, e.g. with
  # line tables) must not end the script under pipefail.
  callgrind_annotate "$f" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | sed 's/ \[.*\]$//' | head -22 || true
  echo "== inclusive =="
  callgrind_annotate --inclusive=yes "$f" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | sed 's/ \[.*\]$//' | grep -v -E 'below main|libc_start|0x0000|:main$|dataplane::main|rust_begin_short' | head -22 || true
} >"$out/callgrind-top.txt"
hf=$(callgrind_annotate --inclusive=yes "$f" 2>/dev/null | grep 'Engine::handle_frame' | head -1 | awk '{gsub(",", "", $1); print $1}' || true)
echo "callgrind: loop $i1 instructions for $n packets, $i2 for $((2 * n)): $per per packet; handle_frame inclusive $((hf / (2 * n))) per packet"
echo "callgrind: top functions in $out/callgrind-top.txt"
echo "table: | engine: instructions per established packet (callgrind, whole loop; (I(2N)-I(N))/N, N=$n) | $per | | | ≤ 1000 |"
echo "table: | engine: … of which inside handle_frame (inclusive) | $((hf / (2 * n))) | | | |"
