#!/usr/bin/env bash
# Prints the size table of dist/<target>/hagw: target, bytes, static (from `file`).
# Usage: cross/size.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
. cross/env.sh
targets=("$@"); [ ${#targets[@]} -gt 0 ] || read -r -a targets <<<"$ALL_TARGETS"
printf '%-32s %10s  %-6s  %s\n' target bytes static file
printf '%-32s %10s  %-6s  %s\n' ------ ----- ------ ----
for t in "${targets[@]}"; do
  t=$(full_target "$t"); f=dist/$t/hagw
  if [ ! -f "$f" ]; then printf '%-32s %10s  %-6s  %s\n' "$t" - - "(not built: make cross-$t)"; continue; fi
  d=$(file -b "$f")
  case $d in *"statically linked"*|*"static-pie linked"*) s=yes ;; *) s=no ;; esac
  printf '%-32s %10s  %-6s  %s\n' "$t" "$(stat -c %s "$f")" "$s" "$(echo "$d" | cut -d, -f1-3)"
done
