#!/usr/bin/env bash
# hagw demo: two hagw routers and a client in network namespaces on one
# bridge; shows `hagw show vrrp summary` from both routers, pings the VIP,
# kills the master (SIGKILL + link down) while the client keeps pinging,
# shows the backup taking over and how long the ping stopped. Everything it
# creates is removed on exit (trap). Bounded: a watchdog ends it after 120 s.
# Usage: tests/demo.sh   (as root; HAGW=path/to/hagw to pick a binary)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root (network namespaces)" >&2
  exit 1
fi
cd "$(dirname "$0")/.."
HAGW=${HAGW:-target/debug/hagw}
if [ ! -x "$HAGW" ]; then
  echo "demo: building hagw"
  cargo build -q
fi
HAGW=$(readlink -f "$HAGW")

P=hgdemo$$
DIR=$(mktemp -d /tmp/hagw-demo.XXXXXX)
VIP=192.168.42.50
PIDS=()
NSS=()

cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
  for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$DIR"
  echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 1' INT TERM
( sleep 120; echo "demo: watchdog timeout" >&2; kill -TERM $$ ) 2>/dev/null &
WATCHDOG=$!

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

mkns() { ip netns add "$1"; NSS+=("$1"); ip -n "$1" link set lo up
         ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true; }
plug() { # plug NS IFNAME SWITCHPORT
  ip -n "$P-sw" link add "$3" type veth peer name "$2" netns "$1"
  ip -n "$P-sw" link set "$3" master br0
  for x in "$P-sw $3" "$1 $2"; do
    set -- $x
    ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$1" link set "$2" up
  done
}
conf() { # conf ADDR PRIORITY SOCKET
  cat <<EOC
config globals 'globals'
	option node_id '1'
	option control_socket '$3'

config interface 'lan'
	option device 'lan0'
	option role 'lan'
	option address '$1/24'

config vrrp_group 'lan_gw'
	option interface 'lan'
	option vrid '42'
	list virtual_address '$VIP'
	option priority '$2'
EOC
}
summary() { echo "-- router $1:"; "$HAGW" show vrrp summary --socket "$DIR/$1.sock" || true; }
state() { "$HAGW" show vrrp summary --json --socket "$DIR/$1.sock" 2>/dev/null | tr -d ' \n' | grep -o '"state":"[a-z]*"' | head -1 | cut -d'"' -f4; }
wait_state() { # wait_state ROUTER STATE SECONDS
  for _ in $(seq $(($3 * 10))); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.1; done
  echo "demo: router $1 did not become $2" >&2; return 1
}

say "topology: client (192.168.42.100, gw $VIP) -- bridge -- router A (.1, prio 200), router B (.2, prio 100)"
mkns "$P-sw"; ip -n "$P-sw" link add br0 type bridge; ip -n "$P-sw" link set br0 up
for r in a b c; do mkns "$P-$r"; done
plug "$P-a" lan0 pa; plug "$P-b" lan0 pb; plug "$P-c" eth0 pc
ip -n "$P-c" addr add 192.168.42.100/24 dev eth0
ip -n "$P-c" route add default via $VIP
conf 192.168.42.1 200 "$DIR/a.sock" > "$DIR/a.uci"
conf 192.168.42.2 100 "$DIR/b.sock" > "$DIR/b.uci"
"$HAGW" check-config -c "$DIR/a.uci"

say "starting hagw on both routers (no IPv4 address on their lan0: hagw owns it)"
for r in a b; do
  ip netns exec "$P-$r" "$HAGW" run -c "$DIR/$r.uci" >"$DIR/$r.log" 2>&1 &
  PIDS+=($!); eval "PID_$r=$!"
done
wait_state a master 10; wait_state b backup 10
summary a; summary b

say "client pings the VIP"
ip netns exec "$P-c" ping -c 3 -i 0.2 -w 5 $VIP

say "client pings every 10 ms; in 2 s router A dies (SIGKILL + link down)"
ip netns exec "$P-c" ping -D -n -i 0.01 -c 700 -w 25 $VIP >"$DIR/ping.log" 2>&1 &
PING=$!; PIDS+=($PING)
sleep 2
kill -9 "$PID_a"; wait "$PID_a" 2>/dev/null || true; ip -n "$P-a" link set lan0 down
echo "router A killed at $(date +%T.%N | cut -c1-12)"
wait_state b master 10
summary b
wait "$PING" || true
awk -F'[][]' '/bytes from/ { t=$2; if (p) { g=t-p; if (g>m) m=g }; p=t; n++ }
  END { printf "ping: %d replies, largest gap %.3f s (Master_Down_Interval of B = 3.609 s)\n", n, m }' "$DIR/ping.log"
tail -n 3 "$DIR/ping.log"

say "router B log"
cat "$DIR/b.log"
say "done"
