//! Health tracking primitives, independent of the config and the engine:
//! the rise/fall hysteresis every track runs, and the two probes the core
//! sends itself (ICMP echo to a target, ARP request for a target).
//!
//! Owns: `Hysteresis` (UP/DOWN from consecutive results), `Probe` (one
//! outstanding probe at a time: identifier and sequence for echo, the
//! next hop's MAC learned from ARP, the counters) and the frame writers.
//! Never: reads a clock, keeps a socket, allocates per probe, or decides
//! what a DOWN track does to a group (engine/tracks.rs does).

use crate::wire::build;
use crate::wire::{ArpOperation, ArpRepr, EthernetAddress};
use std::net::Ipv4Addr;

/// Payload of our echo requests (fixed: nothing per probe to allocate).
pub const ECHO_DATA: &[u8; 16] = b"hagw health prob";

/// UP/DOWN with hysteresis: `fall` consecutive failures take an UP track
/// DOWN, `rise` consecutive successes take a DOWN track UP. A track starts
/// UP (a router does not give up its groups before the first probe).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hysteresis {
    up: bool,
    /// Consecutive results against the current state.
    streak: u8,
    rise: u8,
    fall: u8,
}

impl Hysteresis {
    pub fn new(rise: u8, fall: u8) -> Hysteresis {
        Hysteresis {
            up: true,
            streak: 0,
            rise: rise.max(1),
            fall: fall.max(1),
        }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Consecutive results against the current state so far.
    pub fn streak(&self) -> u8 {
        self.streak
    }

    /// Record one result; `Some(up)` when the state changed.
    pub fn record(&mut self, ok: bool) -> Option<bool> {
        if ok == self.up {
            self.streak = 0;
            return None;
        }
        self.streak = self.streak.saturating_add(1);
        let need = if self.up { self.fall } else { self.rise };
        if self.streak < need {
            return None;
        }
        self.up = ok;
        self.streak = 0;
        Some(ok)
    }
}

/// What a probe sends.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Ping,
    Arp,
}

/// Counters of one probe.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeCounters {
    /// Echo requests or ARP requests for the target sent.
    pub sent: u64,
    /// Matching answers from the target.
    pub replies: u64,
    /// Probes unanswered by the next one.
    pub timeouts: u64,
    /// Answers that did not match: another source, an old sequence number.
    pub ignored: u64,
    /// ARP requests for the ping next hop.
    pub resolve_sent: u64,
}

/// What an ARP packet meant to a probe.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ArpSeen {
    Nothing,
    /// The ARP probe's target answered: success.
    Answered,
    /// The ping's next hop is now known and an echo is waiting: send it now.
    Resolved,
}

/// One probe of `target` out of one interface; at most one outstanding.
#[derive(Clone, Debug)]
pub struct Probe {
    pub kind: ProbeKind,
    pub target: Ipv4Addr,
    /// Ping: where the echo goes on the link (the target or a gateway).
    pub next_hop: Ipv4Addr,
    pub ident: u16,
    seq: u16,
    next_hop_mac: Option<[u8; 6]>,
    /// A probe went out and was not answered yet.
    outstanding: bool,
    /// Ping: the echo waits for the next hop's MAC.
    waiting_arp: bool,
    pub counters: ProbeCounters,
}

impl Probe {
    pub fn new(kind: ProbeKind, target: Ipv4Addr, next_hop: Ipv4Addr, ident: u16) -> Probe {
        Probe {
            kind,
            target,
            next_hop,
            ident,
            seq: 0,
            next_hop_mac: None,
            outstanding: false,
            waiting_arp: false,
            counters: ProbeCounters::default(),
        }
    }

    pub fn seq(&self) -> u16 {
        self.seq
    }

    /// The probe period elapsed: `Some(false)` when the previous probe went
    /// unanswered (a failure). Starts a new probe; `write` builds its frame.
    pub fn tick(&mut self) -> Option<bool> {
        let missed = self.outstanding;
        if missed {
            self.counters.timeouts += 1;
            // Re-resolve: the next hop may have changed its MAC.
            self.next_hop_mac = None;
        }
        self.seq = self.seq.wrapping_add(1);
        self.outstanding = true;
        self.waiting_arp = false;
        missed.then_some(false)
    }

    /// The frame of the current probe from `src` (our MAC and the
    /// interface's own address): the echo request, or for a ping whose next
    /// hop is unknown an ARP request for it; an ARP probe is a broadcast
    /// request for the target. Returns the length (0: nothing to send).
    pub fn write(&mut self, buf: &mut [u8], src: ([u8; 6], Ipv4Addr), ip_id: u16) -> usize {
        if !self.outstanding {
            return 0;
        }
        let mac = EthernetAddress(src.0);
        match (self.kind, self.next_hop_mac) {
            (ProbeKind::Arp, _) => {
                self.counters.sent += 1;
                build::arp_request(buf, mac, src.1, self.target)
            }
            (ProbeKind::Ping, None) => {
                self.waiting_arp = true;
                self.counters.resolve_sent += 1;
                build::arp_request(buf, mac, src.1, self.next_hop)
            }
            (ProbeKind::Ping, Some(nh)) => {
                self.waiting_arp = false;
                self.counters.sent += 1;
                build::echo_request(
                    buf,
                    (mac, src.1),
                    (EthernetAddress(nh), self.target),
                    self.ident,
                    self.seq,
                    ECHO_DATA,
                    ip_id,
                )
            }
        }
    }

    /// An ARP packet arrived on the probe's interface, whose own address is
    /// `our_ip`.
    pub fn on_arp(&mut self, arp: &ArpRepr, our_ip: Ipv4Addr) -> ArpSeen {
        let spa = arp.source_protocol_addr;
        match self.kind {
            ProbeKind::Arp => {
                if arp.operation != ArpOperation::Reply
                    || spa != self.target
                    || arp.target_protocol_addr != our_ip
                {
                    return ArpSeen::Nothing;
                }
                if !self.outstanding {
                    self.counters.ignored += 1;
                    return ArpSeen::Nothing;
                }
                self.outstanding = false;
                self.counters.replies += 1;
                ArpSeen::Answered
            }
            ProbeKind::Ping => {
                let sha = arp.source_hardware_addr.0;
                if spa != self.next_hop || sha == [0; 6] || sha[0] & 1 != 0 {
                    return ArpSeen::Nothing;
                }
                self.next_hop_mac = Some(sha);
                if self.waiting_arp && self.outstanding {
                    ArpSeen::Resolved
                } else {
                    ArpSeen::Nothing
                }
            }
        }
    }

    /// An ICMP echo reply with our identifier arrived from `src`: true when
    /// it answers the outstanding probe (the target, this sequence number).
    pub fn on_echo_reply(&mut self, src: Ipv4Addr, seq: u16) -> bool {
        if self.kind != ProbeKind::Ping
            || src != self.target
            || seq != self.seq
            || !self.outstanding
        {
            self.counters.ignored += 1;
            return false;
        }
        self.outstanding = false;
        self.counters.replies += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{EthernetFrame, IcmpPacket, IcmpRepr, Ipv4Packet};

    #[test]
    fn hysteresis_fall_and_rise() {
        let mut h = Hysteresis::new(2, 3);
        assert!(h.is_up());
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), None);
        // A success in between restarts the count.
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(false), Some(false));
        assert!(!h.is_up());
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(false), None);
        assert_eq!(h.record(true), None);
        assert_eq!(h.record(true), Some(true));
        assert!(h.is_up());
    }

    #[test]
    fn hysteresis_one_and_one_follows_every_result() {
        let mut h = Hysteresis::new(1, 1);
        assert_eq!(h.record(false), Some(false));
        assert_eq!(h.record(true), Some(true));
        assert_eq!(h.record(true), None);
    }

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const GW_MAC: [u8; 6] = [2, 0, 0, 0, 0, 9];
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn arp(op: ArpOperation, sha: [u8; 6], spa: &str, tpa: &str) -> ArpRepr {
        ArpRepr {
            operation: op,
            source_hardware_addr: EthernetAddress(sha),
            source_protocol_addr: ip(spa),
            target_hardware_addr: EthernetAddress(MAC),
            target_protocol_addr: ip(tpa),
        }
    }

    #[test]
    fn ping_resolves_next_hop_then_matches_ident_and_seq_from_target_only() {
        let me = ip("10.0.0.2");
        let mut p = Probe::new(ProbeKind::Ping, ip("8.8.8.8"), ip("10.0.0.1"), 0x4801);
        let mut buf = [0u8; 128];
        assert_eq!(p.tick(), None);
        // Next hop unknown: an ARP request for it, not for the target.
        let n = p.write(&mut buf, (MAC, me), 7);
        assert_eq!(n, 42);
        assert_eq!(&buf[38..42], &[10, 0, 0, 1]);
        assert_eq!(p.counters.resolve_sent, 1);
        let seen = p.on_arp(
            &arp(ArpOperation::Reply, GW_MAC, "10.0.0.1", "10.0.0.2"),
            me,
        );
        assert_eq!(seen, ArpSeen::Resolved);
        let n = p.write(&mut buf, (MAC, me), 8);
        let eth = EthernetFrame::new_checked(&buf[..n]).unwrap();
        assert_eq!(eth.dst_addr().0, GW_MAC);
        let ipp = Ipv4Packet::new_checked(eth.payload()).unwrap();
        assert!(ipp.verify_checksum());
        assert_eq!((ipp.src_addr(), ipp.dst_addr()), (me, ip("8.8.8.8")));
        let icmp = IcmpPacket::new_checked(ipp.payload()).unwrap();
        match IcmpRepr::parse(&icmp).unwrap() {
            IcmpRepr::EchoRequest { ident, seq_no, .. } => {
                assert_eq!((ident, seq_no), (0x4801, p.seq()))
            }
            other => panic!("{other:?}"),
        }
        // From another address, or an old sequence number: ignored.
        assert!(!p.on_echo_reply(ip("10.0.0.1"), p.seq()));
        assert!(!p.on_echo_reply(ip("8.8.8.8"), p.seq().wrapping_sub(1)));
        assert!(p.on_echo_reply(ip("8.8.8.8"), p.seq()));
        // A duplicate does not count twice.
        assert!(!p.on_echo_reply(ip("8.8.8.8"), p.seq()));
        assert_eq!((p.counters.replies, p.counters.ignored), (1, 3));
        // Answered: the next tick is no failure, and the MAC is kept.
        assert_eq!(p.tick(), None);
        let n = p.write(&mut buf, (MAC, me), 9);
        assert_eq!(n, 14 + 20 + 8 + 16);
        // Unanswered: failure, MAC forgotten, next probe resolves again.
        assert_eq!(p.tick(), Some(false));
        assert_eq!(p.write(&mut buf, (MAC, me), 10), 42);
        assert_eq!(p.counters.timeouts, 1);
    }

    #[test]
    fn arp_probe_needs_a_reply_from_the_target_to_our_address() {
        let me = ip("10.0.0.2");
        let mut p = Probe::new(ProbeKind::Arp, ip("10.0.0.1"), ip("10.0.0.1"), 0);
        let mut buf = [0u8; 64];
        p.tick();
        assert_eq!(p.write(&mut buf, (MAC, me), 1), 42);
        assert_eq!(&buf[0..6], &[0xff; 6]);
        let other = arp(ArpOperation::Reply, GW_MAC, "10.0.0.3", "10.0.0.2");
        assert_eq!(p.on_arp(&other, me), ArpSeen::Nothing);
        let req = arp(ArpOperation::Request, GW_MAC, "10.0.0.1", "10.0.0.2");
        assert_eq!(p.on_arp(&req, me), ArpSeen::Nothing);
        let not_me = arp(ArpOperation::Reply, GW_MAC, "10.0.0.1", "10.0.0.3");
        assert_eq!(p.on_arp(&not_me, me), ArpSeen::Nothing);
        let good = arp(ArpOperation::Reply, GW_MAC, "10.0.0.1", "10.0.0.2");
        assert_eq!(p.on_arp(&good, me), ArpSeen::Answered);
        assert_eq!(p.tick(), None);
        assert_eq!(p.tick(), Some(false));
    }
}
