#!/usr/bin/env bash
# Builds an OpenWrt package without the SDK: dist/hagw_<version>_<arch>.ipk
#
#   cross/ipk.sh [TARGET] [BIN]
#
# TARGET (default x86_64-unknown-linux-musl; short names work) picks the
# Architecture field; BIN is the hagw binary to package (default
# dist/<target>/hagw, built with cross/build.sh if missing). IPK_OUT=dir
# changes the output directory; IPK_ARCH overrides the Architecture field
# for a device whose opkg arch is more specific (see `opkg print-architecture`
# on the router, e.g. aarch64_cortex-a53, arm_cortex-a9_vfpv3-d16); the
# binary itself runs on every CPU of its target.
#
# Format: what OpenWrt's scripts/ipkg-build writes and opkg-lede (OpenWrt
# up to 24.10) reads: a gzip stream of a GNU tar holding ./debian-binary
# ("2.0\n"), ./data.tar.gz, ./control.tar.gz, in that order. (Not a
# Debian-style ar archive: opkg-lede has no ar reader and answers
# "Malformed package file".) Reproducible: owner 0:0, sorted names inside
# the member tars, mtime of the last commit, gzip -n (no name, no time).
set -euo pipefail
cd "$(dirname "$0")/.."
. cross/env.sh

t=$(full_target "${1:-x86_64-unknown-linux-musl}")
arch=${IPK_ARCH:-$(openwrt_arch "$t")}
bin=${2:-dist/$t/hagw}
out_dir=${IPK_OUT:-dist}
if [ ! -f "$bin" ]; then
  [ -z "${2:-}" ] || { echo "ipk: $bin not found" >&2; exit 1; }
  cross/build.sh "$t"
fi
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data ctl=$work/control
mkdir -p "$data/usr/sbin" "$data/etc/init.d" "$data/etc/config" \
  "$data/usr/libexec/rpcd" "$ctl"
install -m 0755 "$bin" "$data/usr/sbin/hagw"
install -m 0755 board/openwrt/hagw.init "$data/etc/init.d/hagw"
install -m 0755 board/openwrt/hagw.rpcd "$data/usr/libexec/rpcd/hagw"
# 0600: a config may hold VRRP passwords and the sync auth_key.
install -m 0600 board/openwrt/hagw.config "$data/etc/config/hagw"

tarit() { # dir -> gzip'd tar on stdout, entries ./x like ipkg-build
  tar -C "$1" --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
      --mtime="@$epoch" -cf - . | gzip -9n
}
tarit "$data" > "$work/data.tar.gz"
installed_size=$(gzip -dc "$work/data.tar.gz" | wc -c)

cat > "$ctl/control" <<CTL
Package: hagw
Version: $version
Depends:
Source: hagw
License: MIT OR Apache-2.0
Section: net
Architecture: $arch
Installed-Size: $installed_size
Maintainer: hagw maintainers <hagw@localhost>
Description: High-availability gateway for small routers: VRRP (RFC 3768/5798),
 stateful firewall and NAT, conntrack sync to a peer. One static binary.
CTL
echo /etc/config/hagw > "$ctl/conffiles"
cat > "$ctl/postinst" <<'SH'
#!/bin/sh
# Enables and starts nothing: hagw takes over interfaces, so that is the
# operator's decision.
[ -n "$IPKG_INSTROOT" ] && exit 0
echo "hagw installed. Edit /etc/config/hagw, check it with"
echo "  hagw check-config -c /etc/config/hagw"
echo "then: uci set hagw.globals.enabled=1 && uci commit hagw"
echo "      /etc/init.d/hagw enable && /etc/init.d/hagw start"
echo "(ubus call hagw status: after /etc/init.d/rpcd reload)"
exit 0
SH
cat > "$ctl/prerm" <<'SH'
#!/bin/sh
# Stop the daemon before its files go; on removal (not upgrade) also drop
# the boot symlink, as OpenWrt's default_prerm does.
[ -n "$IPKG_INSTROOT" ] && exit 0
if [ -x /etc/init.d/hagw ]; then
	/etc/init.d/hagw stop 2>/dev/null
	[ "$PKG_UPGRADE" = 1 ] || /etc/init.d/hagw disable 2>/dev/null
fi
exit 0
SH
chmod 0644 "$ctl/control" "$ctl/conffiles"
chmod 0755 "$ctl/postinst" "$ctl/prerm"
tarit "$ctl" > "$work/control.tar.gz"
printf '2.0\n' > "$work/debian-binary"

pkg=$out_dir/hagw_${version}_${arch}.ipk
mkdir -p "$out_dir"
chmod 0644 "$work/debian-binary" "$work/data.tar.gz" "$work/control.tar.gz"
tar -C "$work" --format=gnu --numeric-owner --owner=0 --group=0 \
    --mtime="@$epoch" -cf - ./debian-binary ./data.tar.gz ./control.tar.gz |
  gzip -9n > "$pkg.tmp"
mv "$pkg.tmp" "$pkg"
echo "ipk: $pkg ($(stat -c %s "$pkg") bytes, $arch, Installed-Size $installed_size)"
