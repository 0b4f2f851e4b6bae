//! One tracked connection as stored in the table, and what it exposes.
//!
//! Owns: the `Session` record (tuples, NAT kind, protocol state, flags,
//! expiry, counters, TCP window data, and the u32 links of the index and
//! expiry queues), the TCP state names, and the timeout class a session's
//! state puts it in. Never: looks anything up or moves a session between
//! queues (that is `table`), decides state transitions (`tcp`, `mod`).
//!
//! Size: the record is `repr(C, packed(4))` with hand-ordered fields, so the
//! u64 fields need no 8-byte padding: 108 bytes, checked by a test (the
//! index chain links live in the table's dense `links` array). Its u64
//! fields are only read and written by value (never borrowed).

use super::{Dir, Tuple};
use crate::config::ConntrackTimeouts;
use crate::time::{Duration, Instant};
use crate::wire::protocol;
use std::net::Ipv4Addr;

/// "No slot": the end of a chain, queue or free list.
pub(super) const NIL: u32 = u32::MAX;

/// Session flag bits (`Session::flags`).
pub(super) mod flag {
    /// The slot holds a session.
    pub const LIVE: u8 = 0x01;
    /// Traffic seen both ways (UDP: twice; TCP: handshake completed).
    pub const ASSURED: u8 = 0x02;
    /// A packet in the reply direction was accepted.
    pub const SEEN_REPLY: u8 = 0x04;
    /// Learned from the peer (`insert_synced`).
    pub const FROM_SYNC: u8 = 0x08;
    /// Reported to the sync hooks as New (or learned from the peer), so its
    /// removal is reported as Destroy.
    pub const REPORTED: u8 = 0x10;
    /// The slot index is in the dirty ring. Belongs to the slot, not the
    /// session: it survives freeing and reuse.
    pub const IN_RING: u8 = 0x20;
    pub const SNAT: u8 = 0x40;
    pub const DNAT: u8 = 0x80;
}

/// Per-direction TCP flag bits (`Session::tcp_dir`); the low nibble is the
/// window-scale shift.
pub(super) mod tcp_flag {
    pub const SCALE_MASK: u8 = 0x0f;
    /// This direction sent the window-scale option in its SYN.
    pub const WSCALE_SEEN: u8 = 0x10;
    /// Learned from sync and no packet of this direction seen yet: no
    /// window data, the session is liberal (see `tcp`).
    pub const UNSEEN: u8 = 0x20;
    /// The session was learned from sync: this router may not have seen
    /// all of the stream (see `tcp`, ACKs of unseen data).
    pub const SYNCED: u8 = 0x40;
}

/// NAT applied to a session (the reply tuple already reflects it).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NatFlags {
    pub snat: bool,
    pub dnat: bool,
}

/// TCP connection states, numbered as Linux `nf_conntrack_proto_tcp`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    SynSent = 1,
    SynRecv = 2,
    Established = 3,
    FinWait = 4,
    CloseWait = 5,
    LastAck = 6,
    TimeWait = 7,
    Close = 8,
    /// Simultaneous open: a SYN answered by a SYN.
    SynSent2 = 9,
}

impl TcpState {
    pub const ALL: [TcpState; 9] = [
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::Established,
        TcpState::FinWait,
        TcpState::CloseWait,
        TcpState::LastAck,
        TimeWait,
        TcpState::Close,
        TcpState::SynSent2,
    ];

    #[inline]
    pub fn from_u8(v: u8) -> Option<TcpState> {
        // A match, not a search of ALL: this runs for every tracked packet.
        Some(match v {
            1 => TcpState::SynSent,
            2 => TcpState::SynRecv,
            3 => TcpState::Established,
            4 => TcpState::FinWait,
            5 => TcpState::CloseWait,
            6 => TcpState::LastAck,
            7 => TimeWait,
            8 => TcpState::Close,
            9 => TcpState::SynSent2,
            _ => return None,
        })
    }

    /// The name `show conntrack` prints (Linux's).
    pub fn name(self) -> &'static str {
        match self {
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }
}
use TcpState::TimeWait;

/// Timeout classes: one expiry queue each. Every session of a class got
/// the same timeout at its last refresh, so appending at the tail keeps a
/// queue in deadline order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Class {
    TcpSynSent,
    TcpSynRecv,
    TcpEstablished,
    TcpFinWait,
    TcpCloseWait,
    TcpLastAck,
    TcpTimeWait,
    TcpClose,
    Udp,
    UdpStream,
    Icmp,
    Generic,
}

pub(super) const CLASSES: usize = 12;

impl Class {
    pub const ALL: [Class; CLASSES] = [
        Class::TcpSynSent,
        Class::TcpSynRecv,
        Class::TcpEstablished,
        Class::TcpFinWait,
        Class::TcpCloseWait,
        Class::TcpLastAck,
        Class::TcpTimeWait,
        Class::TcpClose,
        Class::Udp,
        Class::UdpStream,
        Class::Icmp,
        Class::Generic,
    ];

    /// Seconds from the configuration.
    pub fn timeout(self, t: &ConntrackTimeouts) -> u32 {
        match self {
            Class::TcpSynSent => t.tcp_syn_sent,
            Class::TcpSynRecv => t.tcp_syn_recv,
            Class::TcpEstablished => t.tcp_established,
            Class::TcpFinWait => t.tcp_fin_wait,
            Class::TcpCloseWait => t.tcp_close_wait,
            Class::TcpLastAck => t.tcp_last_ack,
            Class::TcpTimeWait => t.tcp_time_wait,
            Class::TcpClose => t.tcp_close,
            Class::Udp => t.udp,
            Class::UdpStream => t.udp_stream,
            Class::Icmp => t.icmp,
            Class::Generic => t.generic,
        }
    }

    fn of_tcp(s: TcpState) -> Class {
        match s {
            TcpState::SynSent | TcpState::SynSent2 => Class::TcpSynSent,
            TcpState::SynRecv => Class::TcpSynRecv,
            TcpState::Established => Class::TcpEstablished,
            TcpState::FinWait => Class::TcpFinWait,
            TcpState::CloseWait => Class::TcpCloseWait,
            TcpState::LastAck => Class::TcpLastAck,
            TimeWait => Class::TcpTimeWait,
            TcpState::Close => Class::TcpClose,
        }
    }
}

/// The reply tuple without its protocol (the original tuple's is used).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Ends {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
}

/// One tracked connection. Read through the accessors; the table owns
/// every change.
#[derive(Clone, Debug)]
#[repr(C, packed(4))]
pub struct Session {
    // Hot for lookups: tuples first.
    pub(super) orig: Tuple,
    pub(super) reply: Ends,
    /// `TcpState as u8` for TCP, 0 otherwise.
    pub(super) state: u8,
    pub(super) flags: u8,
    /// Expiry queue links; `qnext` also chains the free list.
    pub(super) qprev: u32,
    pub(super) qnext: u32,
    /// Deadline in whole seconds of the `Instant` timeline.
    pub(super) expires: u32,
    pub(super) id: u64,
    pub(super) bytes: [u64; 2],
    pub(super) packets: [u64; 2],
    /// TCP window tracking per direction (Linux `ip_ct_tcp_state`):
    /// highest sequence end sent, highest end the receiver allowed, largest
    /// window seen.
    pub(super) tcp_end: [u32; 2],
    pub(super) tcp_maxend: [u32; 2],
    pub(super) tcp_maxwin: [u32; 2],
    /// Seconds the deadline moved later since the session was last
    /// reported to the sync hooks (saturating).
    pub(super) report_lag: u16,
    pub(super) tcp_dir: [u8; 2],
}

impl Session {
    pub(super) const EMPTY: Session = Session {
        orig: Tuple::new(0, Ipv4Addr::UNSPECIFIED, 0, Ipv4Addr::UNSPECIFIED, 0),
        reply: Ends {
            src: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::UNSPECIFIED,
            sport: 0,
            dport: 0,
        },
        state: 0,
        flags: 0,
        qprev: NIL,
        qnext: NIL,
        expires: 0,
        id: 0,
        bytes: [0; 2],
        packets: [0; 2],
        tcp_end: [0; 2],
        tcp_maxend: [0; 2],
        tcp_maxwin: [0; 2],
        report_lag: 0,
        tcp_dir: [0; 2],
    };

    /// A fresh live session in a slot (the slot's `IN_RING` bit is kept).
    pub(super) fn fill(&mut self, id: u64, orig: &Tuple, reply: &Tuple, nat: NatFlags) {
        let in_ring = self.flags & flag::IN_RING;
        *self = Session {
            orig: *orig,
            reply: Ends {
                src: reply.src,
                dst: reply.dst,
                sport: reply.sport,
                dport: reply.dport,
            },
            flags: flag::LIVE
                | in_ring
                | if nat.snat { flag::SNAT } else { 0 }
                | if nat.dnat { flag::DNAT } else { 0 },
            id,
            ..Session::EMPTY
        };
    }

    pub(super) fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Does the tuple of direction `dir` equal `t`?
    pub(super) fn matches(&self, dir: Dir, t: &Tuple) -> bool {
        let orig = self.orig;
        match dir {
            Dir::Original => orig == *t,
            Dir::Reply => {
                let r = self.reply;
                orig.proto == t.proto
                    && r.src == t.src
                    && r.dst == t.dst
                    && r.sport == t.sport
                    && r.dport == t.dport
            }
        }
    }

    #[inline]
    pub(super) fn class(&self) -> Class {
        match self.orig.proto {
            protocol::TCP => TcpState::from_u8(self.state).map_or(Class::Generic, Class::of_tcp),
            protocol::UDP if self.has(flag::ASSURED) => Class::UdpStream,
            protocol::UDP => Class::Udp,
            protocol::ICMP => Class::Icmp,
            _ => Class::Generic,
        }
    }

    /// The stable id: `node_id << 48 | counter` of the router that created it.
    pub fn id(&self) -> u64 {
        self.id
    }
    /// The tuple as the opener sent it (before NAT).
    pub fn orig(&self) -> Tuple {
        self.orig
    }
    /// The tuple of the answer as it arrives (after NAT).
    pub fn reply(&self) -> Tuple {
        let r = self.reply;
        Tuple::new(self.orig.proto, r.src, r.sport, r.dst, r.dport)
    }
    pub fn tuple(&self, dir: Dir) -> Tuple {
        match dir {
            Dir::Original => self.orig(),
            Dir::Reply => self.reply(),
        }
    }
    pub fn proto(&self) -> u8 {
        self.orig.proto
    }
    pub fn nat(&self) -> NatFlags {
        NatFlags {
            snat: self.has(flag::SNAT),
            dnat: self.has(flag::DNAT),
        }
    }
    /// TCP state; `None` for other protocols.
    pub fn tcp_state(&self) -> Option<TcpState> {
        match self.orig.proto {
            protocol::TCP => TcpState::from_u8(self.state),
            _ => None,
        }
    }
    pub fn assured(&self) -> bool {
        self.has(flag::ASSURED)
    }
    pub fn seen_reply(&self) -> bool {
        self.has(flag::SEEN_REPLY)
    }
    pub fn from_sync(&self) -> bool {
        self.has(flag::FROM_SYNC)
    }
    /// Exported to the peer (a New went out, or it came from the peer).
    pub fn reported(&self) -> bool {
        self.has(flag::REPORTED)
    }
    /// For `show conntrack`: the TCP state ("ESTABLISHED", "SYN_SENT", …),
    /// else "UNREPLIED", "REPLIED" or "ASSURED".
    pub fn state_name(&self) -> &'static str {
        match self.tcp_state() {
            Some(s) => s.name(),
            None if self.assured() => "ASSURED",
            None if self.seen_reply() => "REPLIED",
            None => "UNREPLIED",
        }
    }
    /// When the session expires unless refreshed.
    pub fn expires(&self) -> Instant {
        Instant::from_secs(u64::from(self.expires))
    }
    /// Time left until expiry, zero when already due.
    pub fn remaining(&self, now: Instant) -> Duration {
        self.expires() - now
    }
    pub fn packets(&self, dir: Dir) -> u64 {
        pick(self.packets, dir)
    }
    pub fn bytes(&self, dir: Dir) -> u64 {
        pick(self.bytes, dir)
    }
    /// Window-scale shift in effect per direction (original, reply); 0
    /// without scaling.
    pub fn tcp_wscale(&self) -> [u8; 2] {
        let t = self.tcp_dir;
        [t[0] & tcp_flag::SCALE_MASK, t[1] & tcp_flag::SCALE_MASK]
    }

    pub(super) fn account(&mut self, dir: Dir, len: u16) {
        // One branch on the direction, then plain updates (not a select
        // per element).
        let ([p0, p1], [b0, b1], len) = (self.packets, self.bytes, u64::from(len));
        match dir {
            Dir::Original => {
                self.packets = [p0.saturating_add(1), p1];
                self.bytes = [b0.saturating_add(len), b1];
            }
            Dir::Reply => {
                self.packets = [p0, p1.saturating_add(1)];
                self.bytes = [b0, b1.saturating_add(len)];
            }
        }
    }
}

/// The element of a per-direction pair (no indexing: cannot panic).
pub(super) fn pick<T: Copy>(pair: [T; 2], dir: Dir) -> T {
    let [orig, reply] = pair;
    match dir {
        Dir::Original => orig,
        Dir::Reply => reply,
    }
}

/// `pair` with the element of `dir` replaced.
pub(super) fn with<T: Copy>(pair: [T; 2], dir: Dir, v: T) -> [T; 2] {
    let [orig, reply] = pair;
    match dir {
        Dir::Original => [v, reply],
        Dir::Reply => [orig, v],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_is_compact() {
        assert_eq!(core::mem::size_of::<Session>(), 108);
        assert_eq!(core::mem::align_of::<Session>(), 4);
    }

    #[test]
    fn tcp_state_numbers_round_trip() {
        for s in TcpState::ALL {
            assert_eq!(TcpState::from_u8(s as u8), Some(s));
        }
        assert_eq!(TcpState::from_u8(0), None);
        assert_eq!(TcpState::from_u8(10), None);
    }

    #[test]
    fn every_class_has_its_own_timeout() {
        let t = ConntrackTimeouts {
            tcp_syn_sent: 1,
            tcp_syn_recv: 2,
            tcp_established: 3,
            tcp_fin_wait: 4,
            tcp_close_wait: 5,
            tcp_last_ack: 6,
            tcp_time_wait: 7,
            tcp_close: 8,
            udp: 9,
            udp_stream: 10,
            icmp: 11,
            generic: 12,
        };
        for (i, c) in Class::ALL.iter().enumerate() {
            assert_eq!(c.timeout(&t), i as u32 + 1);
            assert_eq!(*c as usize, i);
        }
    }
}
