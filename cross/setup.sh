#!/usr/bin/env bash
# Installs what the cross builds need, and only what is missing (idempotent):
#   * zig (pip package ziglang) in <repo>/.venv-zig: C toolchain + linker,
#     musl libc and crt objects for every target (cross/zigcc/* call it)
#   * llvm-tools (llvm-objcopy, to drop sections nothing loads)
#   * rust-src (std is built from source with -Zbuild-std for every target)
#   * prebuilt std for x86_64/aarch64 musl where rustup has it (optional:
#     lets `cargo test --target T` skip build-std; failure is not an error)
#   * qemu-user-static (runs foreign binaries and tests; apt-get, root)
#   * std's own crates.io dependencies (`cargo fetch -Zbuild-std`) so later
#     builds work offline
# Usage: cross/setup.sh [TARGET...]   (default: all five targets)
set -euo pipefail
cd "$(dirname "$0")/.."

. cross/env.sh
ZIG_VER=0.17.1
TARGETS=()
for a in "$@"; do TARGETS+=("$(full_target "$a")"); done
[ ${#TARGETS[@]} -gt 0 ] || read -r -a TARGETS <<<"$ALL_TARGETS"
say() { echo "cross-setup: $*"; }

# 1. zig
stamp=.venv-zig/.ziglang-$ZIG_VER
if [ -f "$stamp" ] && .venv-zig/bin/python3 -m ziglang version >/dev/null 2>&1; then
  say "zig $ZIG_VER present"
else
  say "installing ziglang==$ZIG_VER into .venv-zig"
  [ -x .venv-zig/bin/pip ] || python3 -m venv .venv-zig
  .venv-zig/bin/pip install -q --disable-pip-version-check "ziglang==$ZIG_VER"
  .venv-zig/bin/python3 -m ziglang version >/dev/null
  touch "$stamp"
fi

# 2. rust-src
sysroot=$(rustc --print sysroot)
if [ -d "$sysroot/lib/rustlib/src/rust/library/std" ]; then
  say "rust-src present"
else
  say "rustup component add rust-src"
  rustup component add rust-src
fi

# 2b. llvm-objcopy (rustup component llvm-tools): drops .pdr etc. after linking
if [ -x "$sysroot/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-objcopy" ]; then
  say "llvm-tools present"
else
  say "rustup component add llvm-tools"
  rustup component add llvm-tools
fi

# 3. prebuilt std where rustup has it (tier 2 with host tools); optional
for t in "${TARGETS[@]}"; do
  case $t in
    x86_64-unknown-linux-musl|aarch64-unknown-linux-musl)
      if [ -d "$sysroot/lib/rustlib/$t/lib" ]; then say "rust-std $t present"
      else rustup target add "$t" >/dev/null 2>&1 && say "rust-std $t added" \
        || say "rust-std $t not available from rustup: build-std only"; fi ;;
  esac
done

# 4. qemu-user-static
need_qemu=()
for t in "${TARGETS[@]}"; do
  case $t in
    aarch64-*) q=qemu-aarch64-static ;; armv7-*) q=qemu-arm-static ;;
    mipsel-*) q=qemu-mipsel-static ;; mips-*) q=qemu-mips-static ;; *) continue ;;
  esac
  command -v "$q" >/dev/null || need_qemu+=("$q")
done
if [ ${#need_qemu[@]} -gt 0 ]; then
  say "installing qemu-user-static (missing: ${need_qemu[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends qemu-user-static
else
  say "qemu-user-static present"
fi

# 5. crates for the crate and for std (build-std), per target
for t in "${TARGETS[@]}"; do
  RUSTC_BOOTSTRAP=1 cargo fetch -q --target "$t" -Zbuild-std
done
say "crates fetched for ${TARGETS[*]}"
say "ok"
