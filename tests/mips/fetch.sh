#!/usr/bin/env bash
# Fetches what the MIPS lab (tests/mips_system.rs) boots, from Debian
# bookworm, without installing anything foreign: the little-endian MIPS
# Malta kernel (linux-image-*-4kc-malta:mipsel, AF_PACKET built in, pcnet32
# and mii as modules) and busybox-static:mipsel. The .debs are downloaded
# with `apt-get download` and unpacked with `dpkg-deb -x` into DIR (default
# target/mips-lab, so `cargo clean` removes them). Idempotent: a second run
# with everything in place does nothing (no network).
#
#   tests/mips/fetch.sh [DIR]
#
# Afterwards: DIR/root/boot/vmlinuz-*, DIR/root/lib/modules/*/…/pcnet32.ko*,
# DIR/root/bin/busybox. Needs root on a fresh machine (dpkg
# --add-architecture mipsel, apt-get update) and qemu-system-mips for the
# lab itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(readlink -f "${1:-${CARGO_TARGET_DIR:-target}/mips-lab}")
say() { echo "mips-fetch: $*"; }

stamp=$dir/root/.fetched
if [ -f "$stamp" ]; then
  say "cached in $dir ($(cat "$stamp"))"
  exit 0
fi

if ! dpkg --print-foreign-architectures | grep -qx mipsel; then
  say "dpkg --add-architecture mipsel (package lists only; nothing foreign is installed)"
  dpkg --add-architecture mipsel
  apt-get update -q
fi
debs=$dir/debs
rm -rf "$debs" "$dir/root"
mkdir -p "$debs" "$dir/root"
# apt-get download writes into the current directory; as root it drops to
# the _apt user, which must be able to write there.
chmod 0777 "$debs"
get() { (cd "$debs" && apt-get download -q "$@"); }
# Package lists may be stale (a kernel ABI bump removes the old image):
# one apt-get update and a retry.
get_or_update() { get "$@" || { say "apt-get update, then retry"; apt-get update -q && get "$@"; }; }
# linux-image-4kc-malta is a metapackage: its Depends names the image.
get_or_update linux-image-4kc-malta:mipsel busybox-static:mipsel
image=$(dpkg-deb -f "$debs"/linux-image-4kc-malta_*.deb Depends | grep -o 'linux-image-[^ ,]*' | head -n1)
[ -n "$image" ] || { say "cannot find the kernel package behind linux-image-4kc-malta" >&2; exit 1; }
say "kernel package: $image"
get_or_update "$image:mipsel"
rm -f "$debs"/linux-image-4kc-malta_*.deb
for d in "$debs"/*.deb; do
  dpkg-deb -x "$d" "$dir/root"
done

vmlinuz=$(ls "$dir"/root/boot/vmlinuz-* 2>/dev/null | head -n1)
pcnet=$(find "$dir/root/lib/modules" -name 'pcnet32.ko*' | head -n1)
[ -n "$vmlinuz" ] && [ -n "$pcnet" ] && [ -x "$dir/root/bin/busybox" ] || {
  say "unexpected package contents in $dir/root (kernel '$vmlinuz', pcnet32 '$pcnet')" >&2; exit 1; }
(cd "$debs" && ls *.deb) | tr '\n' ' ' > "$stamp"
say "unpacked into $dir: $(basename "$vmlinuz"), busybox $(file -b "$dir/root/bin/busybox" | cut -d, -f1-2)"
