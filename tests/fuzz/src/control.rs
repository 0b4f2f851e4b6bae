//! Target `control`: control-socket request lines, answered from the
//! snapshot of a master gateway with NAT sessions, sync and BFD; also the
//! client's side (response parsing, request building).
//!
//! Input: the bytes a client sends; like the daemon, the line ends at the
//! first newline, is cut at `MAX_REQUEST` bytes and read as lossy UTF-8.

use super::gateway::{self, LAN_HOST, LAN_HOST_MAC, REMOTE, VIP_WAN, WAN_GW, WAN_GW_MAC, WAN_HOST};
use super::packet::{TCP_SYN, arp, ether, tcp, udp};
use hagw::cli::control::{MAX_REQUEST, parse_response, request_line, respond};
use hagw::engine::Snapshot;
use hagw::time::{Duration, Instant};
use std::sync::OnceLock;

/// A master with a UDP and a TCP session through SNAT, a port-forwarded
/// TCP session, and a learned WAN gateway.
pub fn snapshot() -> &'static (Snapshot, Instant) {
    static SNAP: OnceLock<(Snapshot, Instant)> = OnceLock::new();
    SNAP.get_or_init(|| {
        let (mut e, mut tx, mut now) = super::engine::master_of(gateway::engine(200, false));
        let (lan, wan) = (gateway::mac(0), gateway::mac(1));
        let gw_arp = arp(1, WAN_GW_MAC, WAN_GW, [0; 6], VIP_WAN);
        let frames = [
            (1, ether([0xff; 6], WAN_GW_MAC, 0x0806, &gw_arp)),
            (
                0,
                ether(
                    lan,
                    LAN_HOST_MAC,
                    0x0800,
                    &udp(LAN_HOST, 5353, REMOTE, 53, b"q"),
                ),
            ),
            (
                0,
                ether(
                    lan,
                    LAN_HOST_MAC,
                    0x0800,
                    &tcp(LAN_HOST, 40000, REMOTE, 443, TCP_SYN, 1, 0, &[]),
                ),
            ),
            (
                1,
                ether(
                    wan,
                    WAN_GW_MAC,
                    0x0800,
                    &tcp(WAN_HOST, 41000, VIP_WAN, 2222, TCP_SYN, 9, 0, &[]),
                ),
            ),
        ];
        for (port, f) in frames {
            super::engine::frame(&mut e, &mut tx, now, port, &f, false);
        }
        gateway::advance(&mut e, &mut tx, &mut now, Duration::from_millis(100));
        (e.snapshot_with(now, true), now)
    })
}

pub fn run(data: &[u8]) {
    let (snap, now) = snapshot();
    let line = data.get(..MAX_REQUEST).unwrap_or(data);
    let line = line.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let line = String::from_utf8_lossy(line);
    let answer = respond(&line, snap, *now);
    assert!(
        parse_response(&answer).is_ok(),
        "every answer is framed ok/error"
    );
    let _ = parse_response(data);
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    if let Ok(l) = request_line(&words, data.first().is_some_and(|b| b & 1 == 1)) {
        assert!(l.len() < MAX_REQUEST && !l.contains('\n'));
    }
}
