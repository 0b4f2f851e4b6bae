#!/usr/bin/env bash
# `make bench`: every benchmark of the dataplane (issue 10, Performance),
# then one table of all of them. Numbers, no assertions about time.
#   1. engine in memory: ns per established packet and new flows/s
#      (cargo bench --bench dataplane)
#   2. instructions per packet under callgrind (tests/benches/callgrind.sh)
#   3. session table scale and bytes per session (cargo bench --bench conntrack),
#      conntrack-sync bytes per message and sessions/s in memory (--bench sync)
#   4. static binary sizes (make cross-x86_64 / cross-mipsel if not built)
#   5. as root: iperf3 TCP both ways and 64 B UDP pps through hagw and
#      through the kernel (nftables SNAT) in the same namespace topology,
#      and hagw's VmRSS with a 16k table (tests/netns_bench.rs bench_gateway,
#      run with the static x86_64 firmware binary; with perf, a profile
#      of the router during the 60 B blast: target/bench/hagw-perf.txt);
#      the same forwarding with hagw's host TAPs on and off (bench_host_tap);
#      conntrack sync between two daemons: replication lag, sessions/s over
#      the link, the failover commit (tests/netns_sync_bench.rs)
# Every step's output goes to target/bench/bench.log; the table (rows are
# the "table:" lines the steps print) to the terminal and
# target/bench/table.md. HAGW_BENCH_RUNS / HAGW_BENCH_SECS / HAGW_BENCH_ROUNDS
# tune the repetitions (see the benches).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=target/bench
mkdir -p "$out"
log=$out/bench.log
: >"$log"
failed=()
step() {
  echo "== $*" | tee -a "$log"
  "$@" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" = 0 ] || failed+=("$*")
}

step cargo bench --bench dataplane
step tests/benches/callgrind.sh
step cargo bench --bench conntrack
step cargo bench --bench sync
for t in x86_64 mipsel; do
  full=$t-unknown-linux-musl
  [ -f "dist/$full/hagw" ] || step make "cross-$t"
done
rm -f "$out/hagw-perf.txt"
if [ "$(id -u)" = 0 ]; then
  # With perf installed, a 2 s profile of the router during the blast
  # (target/bench/hagw-perf.txt; summarised in the table).
  command -v perf >/dev/null && export HAGW_BENCH_PERF=1
  HAGW_BIN=$PWD/dist/x86_64-unknown-linux-musl/hagw \
    step cargo test --test netns_bench bench_gateway -- --ignored --nocapture
  HAGW_BIN=$PWD/dist/x86_64-unknown-linux-musl/hagw \
    step cargo test --test netns_bench bench_host_tap -- --ignored --nocapture
  HAGW_BIN=$PWD/dist/x86_64-unknown-linux-musl/hagw \
    step cargo test --release --test netns_sync_bench -- --ignored --nocapture
else
  echo "namespace benchmark skipped: needs root" | tee -a "$log"
fi

{
  echo "hagw benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (make bench)"
  echo
  echo "| measurement | hagw | kernel | hagw / kernel | goal |"
  echo "|---|---|---|---|---|"
  sed -n 's/^table: //p' "$log"
  # Session table scale (the conntrack bench's own table, one row per size).
  awk '/^ *[0-9]+ +[0-9]+ \|/ { printf "| session table, %s sessions: insert / lookup hit / miss / track UDP / track TCP / expire, ns | %s / %s / %s / %s / %s / %s | | | flat |\n", $1, $4, $5, $6, $7, $8, $9 }' "$log"
  awk '/^ *16384 sessions: / { printf "| session table: bytes per session (16k, index and change rings included) | %s | ~320 (nf_conn) | | ≤ 128 |\n", $3 }' "$log"
  if [ -f "$out/hagw-perf.txt" ]; then
    awk '/\[\.\]/ { u += $1 } /\[k\]/ { k += $1; if (n < 4) { top = top (n ? ", " : "") $3 " " $1; n++ } }
      END { printf "| hagw during the blast (perf cpu-clock): user / kernel share; top kernel symbols | %.0f%% / %.0f%%; %s | | | |\n", u, k, top }' "$out/hagw-perf.txt"
  fi
  for t in x86_64 mipsel; do
    f=dist/$t-unknown-linux-musl/hagw
    [ -f "$f" ] && echo "| static $t binary (cross/build.sh, stripped), bytes | $(stat -c %s "$f") | | | $([ $t = mipsel ] && echo '≤ 400 kB') |"
  done
} >"$out/table.md"
echo
cat "$out/table.md"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
