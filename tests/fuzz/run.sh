#!/usr/bin/env bash
# Run libFuzzer targets (built by `make fuzz-build`) for SECONDS each, one
# process each (the machine is small), and fail on the first crash, leak,
# timeout or out-of-memory. New corpus units go to target/fuzz/corpus/<t>
# (the committed seeds in tests/fuzz/corpus/<t> are only read); a crashing
# input lands in target/fuzz/artifacts/<t>/. Prints execs and execs/s per
# target at the end.
# Usage: tests/fuzz/run.sh SECONDS TARGET...
# With FUZZ_RUNS=N in the environment a target also stops after N execs
# (libFuzzer -runs), whichever comes first: `make fuzz FUZZ_SECONDS=7200
# FUZZ_RUNS=10000000` is the long run the closing notes quote.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=$1
shift
host=$(rustc -vV | sed -n 's/^host: //p')
bin=target/fuzz/$host/release
summary=()
status=0
for t in "$@"; do
  mkdir -p "target/fuzz/corpus/$t" "target/fuzz/artifacts/$t"
  log="target/fuzz/$t.log"
  echo "fuzz: $t for ${secs}s"
  dict=()
  runs=()
  [ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  # Keep freed heap instead of handing it back to the kernel after every
  # input (each input frees a copy of an engine, ~1 MB): without this,
  # page faults and brk were a third of the time of the engine harnesses.
  GLIBC_TUNABLES=glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=33554432 \
    "$bin/$t" "${dict[@]}" "${runs[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="target/fuzz/artifacts/$t/" \
    "target/fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  summary+=("$(printf '%-8s %12s execs %8s/s  %s' "$t" "${execs:-?}" "${rate:-?}" "$cov")")
  if [ $rc -ne 0 ]; then
    status=1
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -10
    echo "fuzz: $t FAILED (log: $log); replay: $bin/$t <the artifact above>;"
    echo "      then add the input under tests/fuzz/regressions/$t/ and a named test in tests/fuzz_regressions.rs"
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
