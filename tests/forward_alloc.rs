//! The forward path through NAT, engine in memory (the SPEC §6 router,
//! board/examples/scenario5-stateful-a.uci: SNAT of the LAN to the WAN
//! virtual address, wan_in firewall), master of both groups:
//!
//! * established TCP flows both ways, with timers running, allocate
//!   nothing (counting global allocator) once the flows are open;
//! * a frame whose TCP/UDP checksum is partial (a sender with checksum
//!   offload: the field holds only the pseudo-header sum, Linux's
//!   TP_STATUS_CSUMNOTREADY) leaves SNAT'd with a correct checksum when the
//!   driver says so (`RxMeta::csum_partial`), checked by a full recompute
//!   in an independent codec; without the flag it would leave wrong.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
#[path = "common/engine_rig.rs"]
mod engine_rig;
#[path = "sim/packet.rs"]
mod packet;

use engine_rig::{LAN, Rig, UPSTREAM, UPSTREAM_MAC, WAN, WAN_VIP};
use hagw::engine::{RxMeta, Verdict};
use hagw::time::Duration;
use packet::{TCP_ACK, TCP_PSH, TCP_SYN};
use std::net::Ipv4Addr;

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 100);
const CLIENT_MAC: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 1];
const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

fn mac_of(ip: Ipv4Addr) -> Option<[u8; 6]> {
    match ip {
        UPSTREAM => Some(UPSTREAM_MAC),
        CLIENT => Some(CLIENT_MAC),
        _ => None,
    }
}

fn rig() -> Rig {
    Rig::new((CLIENT, CLIENT_MAC), mac_of)
}

trait Flows {
    fn client_tcp(&self, sport: u16, flags: u8, seq: u32, ack: u32, data: &[u8]) -> Vec<u8>;
    fn server_tcp(&self, nat: u16, flags: u8, seq: u32, ack: u32, data: &[u8]) -> Vec<u8>;
    fn open(&mut self, sport: u16) -> u16;
}

impl Flows for Rig {
    fn client_tcp(&self, sport: u16, flags: u8, seq: u32, ack: u32, data: &[u8]) -> Vec<u8> {
        let ip = packet::tcp(CLIENT, sport, SERVER, 443, flags, seq, ack, data);
        packet::ether(self.lan_gw, CLIENT_MAC, 0x0800, &ip)
    }

    fn server_tcp(&self, nat: u16, flags: u8, seq: u32, ack: u32, data: &[u8]) -> Vec<u8> {
        let ip = packet::tcp(SERVER, 443, WAN_VIP, nat, flags, seq, ack, data);
        packet::ether(self.wan_gw, UPSTREAM_MAC, 0x0800, &ip)
    }

    /// Open a TCP flow from client port `sport`; its NAT port.
    fn open(&mut self, sport: u16) -> u16 {
        let syn = self.client_tcp(sport, TCP_SYN, 1000, 0, &[]);
        let (p, f) = self.send(LAN, syn).expect("SYN forwarded");
        assert_eq!(p, WAN);
        let pk = packet::parse(&f[14..]).expect("SYN checksums");
        assert_eq!(pk.src, WAN_VIP, "SNAT'd");
        let sa = self.server_tcp(pk.sport, TCP_SYN | TCP_ACK, 5000, 1001, &[]);
        self.send(WAN, sa).expect("SYN-ACK forwarded");
        let ack = self.client_tcp(sport, TCP_ACK, 1001, 5001, &[]);
        self.send(LAN, ack).expect("ACK forwarded");
        pk.sport
    }
}

#[test]
fn established_flows_through_nat_do_not_allocate() {
    let mut r = rig();
    const FLOWS: u16 = 64;
    let nat: Vec<u16> = (0..FLOWS).map(|i| r.open(30_000 + i)).collect();
    let data = [0x5au8; 1400];
    // Templates built before counting; each round restores them into a
    // stack buffer, as a ring slot would hold the frame.
    let outs: Vec<Vec<u8>> = (0..FLOWS)
        .map(|i| r.client_tcp(30_000 + i, TCP_ACK | TCP_PSH, 1001, 5001, &data))
        .collect();
    let backs: Vec<Vec<u8>> = (0..FLOWS)
        .map(|i| r.server_tcp(nat[i as usize], TCP_ACK, 5001, 1001 + 1400, &[]))
        .collect();
    let mut buf = [0u8; 1518];
    let (mut forwarded, mut sent) = (0u64, 0u64);
    counting_alloc::counting(true);
    for _ in 0..200u32 {
        r.now = r.now + Duration::from_millis(5);
        if r.e.poll_timeout().is_some_and(|t| t <= r.now) {
            r.e.handle_timeout(r.now, &mut r.tx);
        }
        r.e.end_of_turn(r.now, &mut r.tx);
        for (port, set) in [(LAN, &outs), (WAN, &backs)] {
            for t in set.iter() {
                let f = &mut buf[..t.len()];
                f.copy_from_slice(t);
                // Same sequence numbers every round: retransmissions,
                // tracked like any segment in the window.
                let v =
                    r.e.handle_frame_meta(r.now, port, f, RxMeta::default(), &mut r.tx);
                sent += 1;
                if matches!(v, Verdict::Forward(_)) {
                    forwarded += 1;
                }
            }
        }
        r.tx.clear();
        while r.e.poll_event().is_some() {}
    }
    counting_alloc::counting(false);
    assert_eq!(forwarded, sent, "every established packet forwarded");
    assert!(sent >= 25_000);
    assert_eq!(
        counting_alloc::allocations(),
        0,
        "allocations while forwarding {sent} established packets through NAT"
    );
}

/// The checksum field as a sender with offload leaves it: the folded
/// pseudo-header sum (not complemented), over the L4 length.
fn make_partial(frame: &mut [u8], csum_at: usize) {
    let ip = &frame[14..];
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let mut acc: u32 = 0;
    for w in ip[12..20].chunks(2) {
        acc += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    acc += u32::from(ip[9]) + (total - hl) as u32;
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    let at = 14 + hl + csum_at;
    frame[at..at + 2].copy_from_slice(&(acc as u16).to_be_bytes());
}

#[test]
fn partial_checksum_is_completed_before_snat() {
    let mut r = rig();
    let nat = r.open(40_000);
    let partial = RxMeta { csum_partial: true };
    // TCP data LAN → WAN (SNAT) and the answer WAN → LAN (reverse NAT).
    let mut out = r.client_tcp(40_000, TCP_ACK | TCP_PSH, 1001, 5001, b"GET / HTTP/1.0\r\n");
    make_partial(&mut out, 16);
    assert!(
        packet::parse(&out[14..]).is_none(),
        "the crafted frame's checksum is partial (invalid as it stands)"
    );
    let (p, f) = r.send_meta(LAN, out.clone(), partial).expect("forwarded");
    assert_eq!(p, WAN);
    let pk = packet::parse(&f[14..]).expect("TCP checksum correct after SNAT (full recompute)");
    assert_eq!((pk.src, pk.sport, pk.dst), (WAN_VIP, nat, SERVER));
    assert_eq!(pk.payload, b"GET / HTTP/1.0\r\n");
    let mut back = r.server_tcp(nat, TCP_ACK | TCP_PSH, 5001, 1017, b"HTTP/1.0 200 OK\r\n");
    make_partial(&mut back, 16);
    let (p, f) = r.send_meta(WAN, back, partial).expect("forwarded back");
    assert_eq!(p, LAN);
    let pk = packet::parse(&f[14..]).expect("TCP checksum correct after reverse NAT");
    assert_eq!((pk.dst, pk.dport), (CLIENT, 40_000));
    // The same partial frame without the flag leaves with a wrong checksum:
    // the test sees the difference.
    let (_, f) = r.send(LAN, out).expect("forwarded");
    assert!(
        packet::parse(&f[14..]).is_none(),
        "without completion the incremental update keeps it wrong"
    );

    // UDP: a new flow whose first datagram is partial.
    let ip = packet::udp(CLIENT, 5353, SERVER, 53, b"query");
    let mut u = packet::ether(r.lan_gw, CLIENT_MAC, 0x0800, &ip);
    make_partial(&mut u, 6);
    let (p, f) = r.send_meta(LAN, u, partial).expect("UDP forwarded");
    assert_eq!(p, WAN);
    let pk = packet::parse(&f[14..]).expect("UDP checksum correct after SNAT");
    assert_eq!((pk.src, pk.dst, pk.dport), (WAN_VIP, SERVER, 53));
}
