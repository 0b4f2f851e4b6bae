#!/usr/bin/env bash
# hagw product demo (`make demo`, root, any Linux with iproute2 + python3 +
# curl): a client, two hagw routers (board/examples/scenario5-stateful-a/b:
# LAN and WAN groups, SNAT to the WAN VIP, conntrack sync on a dedicated
# link) and a server, each in its own network namespace. The client
# downloads a 12 MB file from the server through the master, paced at
# 1.5 MB/s, and pings the server every 20 ms; 2.5 s in, the master dies
# (SIGKILL, links down). The narrated timeline shows who is master, the
# sessions synced to the backup, the failover commit, the gap the client
# saw, and the bytes received with their checksum against the sender's.
# Everything it creates is removed on exit, Ctrl-C included; a watchdog
# ends it after 120 s.
# Usage: tests/demo.sh   (HAGW=path/to/hagw picks a binary)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root (network namespaces)" >&2
  exit 1
fi
for t in ip python3 curl ping sha256sum; do
  command -v "$t" >/dev/null || { echo "demo: needs $t" >&2; exit 1; }
done
cd "$(dirname "$0")/.."
HAGW=${HAGW:-target/debug/hagw}
if [ ! -x "$HAGW" ]; then
  echo "demo: building hagw"
  cargo build -q
fi
HAGW=$(readlink -f "$HAGW")

P=hgdemo$$
DIR=$(mktemp -d /tmp/hagw-demo.XXXXXX)
CLIENT=192.168.10.100
SERVER=10.0.0.100
PIDS=()
NSS=()
T0=$(date +%s.%N)

cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
  for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$DIR"
  echo "demo: cleaned up (namespaces, processes, $DIR)"
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 1' INT TERM
( sleep 120 >/dev/null 2>&1; echo "demo: watchdog timeout" >&2; kill -TERM $$ ) &
WATCHDOG=$!

t() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%6.2f", b - a }'; }
say() { printf '\n\033[1m[%s s] %s\033[0m\n' "$(t)" "$*"; }
note() { printf '[%s s] %s\n' "$(t)" "$*"; }

mkns() { ip netns add "$1"; NSS+=("$1"); ip -n "$1" link set lo up
         ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true; }
# One bridge per segment, all in the switch namespace.
plug() { # plug NS IFNAME SEGMENT
  local port="${3}${RANDOM}"
  ip -n "$P-sw" link add "$port" type veth peer name "$2" netns "$1"
  ip -n "$P-sw" link set "$port" master "br-$3"
  for x in "$P-sw $port" "$1 $2"; do
    set -- $x
    ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$1" link set "$2" up
  done
}
# The board example with this demo's control socket.
conf() { # conf EXAMPLE SOCKET
  sed "s|option control_socket .*|option control_socket '$2'|" "board/examples/$1"
}
show() { "$HAGW" show "$@"; }
state() { show vrrp summary --json --socket "$DIR/$1.sock" 2>/dev/null | tr -d ' \n' |
          grep -o '"state":"[a-z]*"' | head -1 | cut -d'"' -f4; }
wait_state() { # wait_state ROUTER STATE SECONDS
  for _ in $(seq $(($3 * 10))); do [ "$(state "$1")" = "$2" ] && return 0; sleep 0.1; done
  echo "demo: router $1 did not become $2" >&2; return 1
}

say "topology: client $CLIENT -- LAN (VIP 192.168.10.1) -- routers A (prio 200) and B (prio 100) -- WAN (VIP 10.0.0.1) -- server $SERVER; A and B share a sync link 10.99.0.0/30"
mkns "$P-sw"
for s in lan wan sync; do ip -n "$P-sw" link add "br-$s" type bridge; ip -n "$P-sw" link set "br-$s" up; done
for n in a b c s; do mkns "$P-$n"; done
for r in a b; do plug "$P-$r" lan0 lan; plug "$P-$r" wan0 wan; plug "$P-$r" sync0 sync; done
ip -n "$P-a" addr add 10.99.0.1/30 dev sync0
ip -n "$P-b" addr add 10.99.0.2/30 dev sync0
plug "$P-c" eth0 lan; ip -n "$P-c" addr add $CLIENT/24 dev eth0
ip -n "$P-c" route add default via 192.168.10.1
plug "$P-s" eth0 wan; ip -n "$P-s" addr add $SERVER/24 dev eth0
conf scenario5-stateful-a.uci "$DIR/a.sock" > "$DIR/a.uci"
conf scenario5-stateful-b.uci "$DIR/b.sock" > "$DIR/b.uci"
"$HAGW" check-config -c "$DIR/a.uci"
"$HAGW" check-config -c "$DIR/b.uci"

say "starting hagw on both routers (lan0/wan0 have no kernel address: hagw owns them)"
for r in a b; do
  ip netns exec "$P-$r" "$HAGW" run -c "$DIR/$r.uci" >"$DIR/$r.log" 2>&1 &
  PIDS+=($!); eval "PID_$r=$!"
done
wait_state a master 15; wait_state b backup 15
note "A is master, B is backup"
show vrrp summary --socket "$DIR/a.sock"

say "server: 12 MB file, served paced at 1.5 MB/s; client: download + ping every 20 ms"
head -c 12582912 /dev/urandom > "$DIR/blob"
SENT_SUM=$(sha256sum "$DIR/blob" | cut -d' ' -f1)
ip netns exec "$P-s" python3 tests/tools/paced_http.py $SERVER 8080 "$DIR/blob" 1500000 >"$DIR/http.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do ip netns exec "$P-c" bash -c "exec 3<>/dev/tcp/$SERVER/8080" 2>/dev/null && break; sleep 0.1; done
ip netns exec "$P-c" ping -D -n -i 0.02 -w 30 $SERVER >"$DIR/ping.log" 2>&1 &
PING=$!; PIDS+=($PING)
ip netns exec "$P-c" curl -sS --max-time 60 -o "$DIR/got" "http://$SERVER:8080/blob" 2>"$DIR/curl.err" &
CURL=$!; PIDS+=($CURL)
sleep 2.5
note "transfer under way: $(stat -c %s "$DIR/got" 2>/dev/null || echo 0) bytes received so far"
note "sessions B holds for A (external cache):"
show conntrack-sync statistics --socket "$DIR/b.sock" 2>/dev/null | sed -n '/cache external/,/^$/p' || true

say "router A dies now (SIGKILL, links down)"
kill -9 "$PID_a"; wait "$PID_a" 2>/dev/null || true
for l in lan0 wan0 sync0; do ip -n "$P-a" link set "$l" down; done
wait_state b master 15
note "B is master"
grep -E "conntrack-sync: master|failover:" "$DIR/b.log" | sed 's/^/    B log: /'

say "waiting for the download to finish"
if wait "$CURL"; then CURL_OK=1; else CURL_OK=0; fi
kill "$PING" 2>/dev/null || true; wait "$PING" 2>/dev/null || true
GOT=$(stat -c %s "$DIR/got" 2>/dev/null || echo 0)
GOT_SUM=$(sha256sum "$DIR/got" 2>/dev/null | cut -d' ' -f1)
awk -F'[][]' '/bytes from/ { t=$2; if (p) { g=t-p; if (g>m) m=g }; p=t; n++ }
  END { printf "client ping to the server: %d replies, longest gap %.2f s\n", n, m }' "$DIR/ping.log"
note "the server saw: $(head -1 "$DIR/http.log")"
show conntrack-sync status --socket "$DIR/b.sock" 2>/dev/null | sed 's/^/    /' || true
echo "bytes received: $GOT of 12582912"
echo "sha256 sent:     $SENT_SUM"
echo "sha256 received: ${GOT_SUM:-none}"
if [ "$CURL_OK" = 1 ] && [ "$GOT_SUM" = "$SENT_SUM" ]; then
  say "RESULT: the transfer survived the master's death: checksum OK"
else
  say "RESULT: the transfer did NOT survive ($(cat "$DIR/curl.err"))"
  echo "--- B log"; cat "$DIR/b.log"
  exit 1
fi
