# Sourced by the cross/ scripts: target names, qemu, build flags.
# shellcheck shell=bash

ALL_TARGETS="x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf mipsel-unknown-linux-musl mips-unknown-linux-musl"

# RUSTFLAGS in the environment would replace .cargo/config.toml's per-target
# rustflags (link-self-contained=no, +crt-static): never let it through.
if [ -n "${RUSTFLAGS:-}" ]; then
  echo "cross: ignoring RUSTFLAGS='$RUSTFLAGS' (it would drop the per-target flags); use --config" >&2
fi
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

# Short names accepted everywhere: mips, mipsel, armv7, aarch64, x86_64.
full_target() {
  case $1 in
    mips) echo mips-unknown-linux-musl ;; mipsel) echo mipsel-unknown-linux-musl ;;
    armv7|arm) echo armv7-unknown-linux-musleabihf ;; aarch64|arm64) echo aarch64-unknown-linux-musl ;;
    x86_64|amd64) echo x86_64-unknown-linux-musl ;; *-*) echo "$1" ;;
    *) echo "cross: unknown target '$1'" >&2; return 1 ;;
  esac
}

# How to execute a binary of this target on this (x86_64) machine.
runner_for() {
  case $1 in
    x86_64-*) echo "" ;; aarch64-*) echo qemu-aarch64-static ;; armv7-*) echo qemu-arm-static ;;
    mipsel-*) echo qemu-mipsel-static ;; mips-*) echo qemu-mips-static ;;
  esac
}

# OpenWrt package architecture for a target (opkg's Architecture field).
openwrt_arch() {
  case $1 in
    x86_64-*) echo x86_64 ;; aarch64-*) echo aarch64_generic ;;
    armv7-*) echo arm_cortex-a7_neon-vfpv4 ;; mipsel-*) echo mipsel_24kc ;; mips-*) echo mips_24kc ;;
    *) echo "cross: no OpenWrt arch for $1" >&2; return 1 ;;
  esac
}

# std is always built from source: optimize_for_size drops backtrace
# symbolisation and shrinks formatting, and the MIPS/armv7 targets have no
# prebuilt std anyway. -Z flags need RUSTC_BOOTSTRAP on stable; the
# [unstable] table in config.toml would be ignored.
XCARGO=(env RUSTC_BOOTSTRAP=1 cargo)
BUILD_STD=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)

# llvm-objcopy of the rustup component llvm-tools (any target's ELF).
objcopy_bin() {
  echo "$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-objcopy"
}
