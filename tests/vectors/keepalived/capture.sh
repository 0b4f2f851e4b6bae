#!/bin/sh
# Regenerate the keepalived test vectors (*.hex) in this directory.
#
# For each *.conf here: create two network namespaces joined by a veth pair
# (keepalived side 10.99.0.1/24 with a fixed MAC, peer side 10.99.0.2/24),
# run keepalived by hand (no systemd) in the first one for a few seconds
# while tcpdump records VRRP (also inside IPsec AH) and ARP on its interface, stop keepalived with
# SIGTERM (so it sends its priority-0 advert), and write the captured
# frames as hex, one frame per line, after '#' comment lines naming the
# keepalived version and the config. Keeps the first ADVERTS adverts, every
# priority-0 advert and every gratuitous ARP, in capture order.
#
# Needs root, keepalived, tcpdump, iproute2, python3. Namespaces and veths
# are prefixed with this run's PID and removed on exit (trap), every step is
# bounded with timeout. Usage: sh capture.sh [NAME...]   (default: all)
set -eu

DIR=$(cd "$(dirname "$0")" && pwd)
ADVERTS=${ADVERTS:-4}
RUN_SECS=${RUN_SECS:-10}
P="hg$$"
NS_K="$P-k"
NS_P="$P-p"
IF_K="${P}a"
IF_P="${P}b"
MAC_K="02:68:67:00:00:01"
MAC_P="02:68:67:00:00:02"
TMP=$(mktemp -d)
KPID=""
TPID=""

cleanup() {
    [ -n "$KPID" ] && kill "$KPID" 2>/dev/null || true
    [ -n "$TPID" ] && kill "$TPID" 2>/dev/null || true
    for f in "$TMP"/keepalived.pid "$TMP"/vrrp.pid; do
        [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    ip netns del "$NS_K" 2>/dev/null || true
    ip netns del "$NS_P" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
    echo "capture.sh: needs root" >&2
    exit 1
fi

VERSION=$(keepalived --version 2>&1 | head -n 1)

timeout 10 ip netns add "$NS_K"
timeout 10 ip netns add "$NS_P"
timeout 10 ip link add "$IF_K" netns "$NS_K" address "$MAC_K" type veth peer name "$IF_P" netns "$NS_P" address "$MAC_P"
timeout 10 ip -n "$NS_K" addr add 10.99.0.1/24 dev "$IF_K"
timeout 10 ip -n "$NS_P" addr add 10.99.0.2/24 dev "$IF_P"
timeout 10 ip -n "$NS_K" link set lo up
timeout 10 ip -n "$NS_P" link set lo up
timeout 10 ip -n "$NS_K" link set "$IF_K" up
timeout 10 ip -n "$NS_P" link set "$IF_P" up

if [ "$#" -eq 0 ]; then
    set -- $(cd "$DIR" && ls *.conf | sed 's/\.conf$//')
fi

for NAME in "$@"; do
    CONF="$DIR/$NAME.conf"
    echo "capture.sh: $NAME"
    sed "s/IFNAME/$IF_K/" "$CONF" >"$TMP/keepalived.conf"
    rm -f "$TMP/cap.pcap" "$TMP/keepalived.pid" "$TMP/vrrp.pid"
    timeout $((RUN_SECS + 15)) ip netns exec "$NS_K" tcpdump -q -U -n -i "$IF_K" -w "$TMP/cap.pcap" 'vrrp or arp or ip proto 51' \
        2>"$TMP/tcpdump.log" &
    TPID=$!
    sleep 1
    timeout $((RUN_SECS + 10)) ip netns exec "$NS_K" keepalived -n -l -D -f "$TMP/keepalived.conf" \
        -p "$TMP/keepalived.pid" -r "$TMP/vrrp.pid" >"$TMP/keepalived.log" 2>&1 &
    KPID=$!
    sleep "$RUN_SECS"
    # SIGTERM the parent: it stops the VRRP child, which sends priority 0.
    if [ -s "$TMP/keepalived.pid" ]; then
        kill -TERM "$(cat "$TMP/keepalived.pid")" 2>/dev/null || true
    else
        kill -TERM "$KPID" 2>/dev/null || true
    fi
    wait "$KPID" 2>/dev/null || true
    KPID=""
    sleep 1
    kill -INT "$TPID" 2>/dev/null || true
    wait "$TPID" 2>/dev/null || true
    TPID=""
    python3 - "$TMP/cap.pcap" "$DIR/$NAME.hex" "$ADVERTS" "$VERSION" "$CONF" "$IF_K $MAC_K 10.99.0.1/24" <<'PY'
import struct, sys
pcap, out, keep, version, conf, iface = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
data = open(pcap, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
linktype = struct.unpack(endian + "I", data[20:24])[0]
assert linktype == 1, "not Ethernet"
off, frames = 24, []
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
    frames.append(data[off + 16:off + 16 + incl])
    off += 16 + incl
kept, adverts = [], 0
for f in frames:
    et = f[12:14]
    if et == b"\x08\x06":
        # Gratuitous ARP only (spa == tpa), not the kernel resolving a unicast peer.
        if f[28:32] == f[38:42]:
            kept.append(f)
    elif et == b"\x08\x00" and f[23] in (112, 51):
        ihl = (f[14] & 15) * 4
        # With auth_type AH the advert follows a 24-byte IPsec AH header.
        ah = 24 if f[23] == 51 else 0
        prio = f[14 + ihl + ah + 2]
        if prio == 0:
            kept.append(f)
        elif adverts < keep:
            adverts += 1
            kept.append(f)
with open(out, "w") as o:
    o.write("# keepalived: %s\n" % version)
    o.write("# config: %s on %s (keepalived side of a veth pair)\n" % (conf.rsplit("/", 1)[-1], iface))
    for line in open(conf):
        o.write("#   " + line.rstrip("\n") + "\n")
    o.write("# frames: first %d adverts, every priority-0 advert, every gratuitous ARP; one per line\n" % keep)
    for f in kept:
        o.write(f.hex() + "\n")
print("  %d frames captured, %d kept -> %s" % (len(frames), len(kept), out))
PY
done
