#!/usr/bin/env bash
# Static, stripped release binary for one target -> dist/<target>/hagw, then
# checks it: `file` must say statically linked, and `hagw version` (run under
# qemu-user for foreign targets) must print the target triple, and
# `hagw check-config` must accept the scenario-5 example on the target.
# Usage: cross/build.sh TARGET      (full triple or mips/mipsel/armv7/aarch64/x86_64)
# Knobs (for size experiments; defaults are what ships, see cross/README.md):
#   HAGW_OPT=s|z  HAGW_PANIC=abort|immediate-abort  HAGW_RELOC=static|default
#   HAGW_UNWIND=0|1 (unwind tables)  HAGW_OFS=1|0 (std feature optimize_for_size)  HAGW_STRIP=1|0
#   HAGW_SMALLFMT=1|0 (-Zlocation-detail=none -Zfmt-debug=none, compact SHA-256)
#   HAGW_EXTRA_RUSTFLAGS='"-C","flag"' (appended to the target's rustflags)
#   HAGW_OUT=path (default dist/<target>/hagw)
#   HAGW_FEATURES="" (default: no `convert-keepalived`, a desk tool; "convert-keepalived" keeps it)
set -euo pipefail
cd "$(dirname "$0")/.."
. cross/env.sh
t=$(full_target "${1:?usage: cross/build.sh TARGET}")

opt=${HAGW_OPT:-z}
panic=${HAGW_PANIC:-immediate-abort}
reloc=${HAGW_RELOC:-static}
strip=${HAGW_STRIP:-1}
[ "${HAGW_OFS:-1}" = 1 ] || BUILD_STD=(-Zbuild-std=std,panic_abort)
out=${HAGW_OUT:-dist/$t/hagw}

args=(build --release --target "$t" "${BUILD_STD[@]}"
      --config "profile.release.opt-level=\"$opt\""
      --no-default-features --features "${HAGW_FEATURES:-}")
if [ "$panic" = immediate-abort ]; then
  args+=(-Zpanic-immediate-abort --config 'profile.release.panic="immediate-abort"')
fi
# No unwind tables: with panic=abort nothing unwinds, and optimize_for_size
# prints no backtraces. (HAGW_UNWIND=1 keeps them.)
if [ "${HAGW_UNWIND:-0}" = 0 ]; then
  rf='"-C","force-unwind-tables=no"'
fi
# Non-PIE: routers have no use for a relocatable static binary; saves ~5%.
if [ "$reloc" = static ]; then
  rf="${rf:+$rf,}"'"-C","relocation-model=static"'
fi
# Smaller formatting: no file/line/column strings (with immediate-abort no
# panic prints them anyway) and `{:?}` prints nothing (the firmware's code
# uses Debug only in tests; log and error text goes through Display); SHA-256
# without unrolled rounds (sha2's `compact` soft backend). HAGW_SMALLFMT=0
# leaves all three out. Sizes: cross/README.md.
if [ "${HAGW_SMALLFMT:-1}" = 1 ]; then
  rf="${rf:+$rf,}"'"-Z","location-detail=none","-Z","fmt-debug=none","--cfg","sha2_backend_soft=\"compact\""'
fi
# Extra rustflags for experiments, e.g. HAGW_EXTRA_RUSTFLAGS='"-Z","location-detail=none"'.
[ -z "${HAGW_EXTRA_RUSTFLAGS:-}" ] || rf="${rf:+$rf,}$HAGW_EXTRA_RUSTFLAGS"
[ -z "${rf:-}" ] || args+=(--config "target.$t.rustflags=[$rf]")
[ "$strip" = 1 ] || args+=(--config 'profile.release.strip=false')

start=$(date +%s)
"${XCARGO[@]}" "${args[@]}"
secs=$(( $(date +%s) - start ))

mkdir -p "$(dirname "$out")"
cp "${CARGO_TARGET_DIR:-target}/$t/release/hagw" "$out"
if [ "$strip" = 1 ]; then
  # Sections nothing loads that the linker's strip keeps: MIPS procedure
  # descriptors (.pdr, ~15% of a MIPS binary), .comment, .mdebug.abi32.
  "$(objcopy_bin)" --remove-section=.pdr --remove-section=.comment --remove-section=.mdebug.abi32 "$out"
fi
desc=$(file -b "$out")
case $desc in
  *"statically linked"*|*"static-pie linked"*) ;;
  *) echo "cross: $out is NOT static: $desc" >&2; exit 1 ;;
esac
runner=$(runner_for "$t")
ver=$($runner "$out" version)
case $ver in
  *"($t)"*) ;;
  *) echo "cross: '$runner $out version' printed '$ver', expected the triple $t" >&2; exit 1 ;;
esac
# The config parser on the target CPU/endianness: the spec's scenario 5
# example (every section type) must validate.
cfg=board/examples/scenario5-stateful-a.uci
[ -f "$cfg" ] || cfg=board/openwrt/hagw.config
if ! chk=$($runner "$out" check-config -c "$cfg" 2>&1); then
  echo "cross: '$runner $out check-config -c $cfg' failed: $chk" >&2; exit 1
fi
printf 'cross: %s  %s bytes  built in %s s  (opt=%s panic=%s reloc=%s unwind=%s ofs=%s strip=%s)\n  %s\n  %s\n  %s\n' \
  "$out" "$(stat -c %s "$out")" "$secs" "$opt" "$panic" "$reloc" "${HAGW_UNWIND:-0}" "${HAGW_OFS:-1}" "$strip" "$desc" "${runner:-native}: $ver" "$chk"
