//! Packets the router itself answers a forwarded packet with: ICMP time
//! exceeded, destination unreachable (fragmentation needed, port
//! unreachable for a firewall reject, no route) and TCP resets, rate
//! limited like Linux's icmp_ratelimit.
//!
//! Owns: the token bucket (`ICMP_RATE` per second, burst `ICMP_BURST`) and
//! the choice of addresses: an error goes back out of the port the packet
//! arrived on, to the frame's source MAC (no routing or ARP needed), from
//! that port's own address (as Linux answers from the interface facing the
//! sender). Never: decides when an error is due (the forwarding path does).

use super::PortId;
use super::TxQueue;
use super::ctx::Ctx;
use crate::time::{Duration, Instant};
use crate::wire::build::{self, icmp_error_allowed};
use crate::wire::icmp::{IcmpRepr, unreach_code as dst_unreachable};
use crate::wire::{EthernetAddress, ethernet};

/// Errors per second the router sends at most (Linux: 1000 ms / 1 s burst).
pub const ICMP_RATE: u32 = 100;
/// Errors that may go out back to back.
pub const ICMP_BURST: u32 = 50;

/// A token bucket for router-generated ICMP errors.
#[derive(Clone)]
pub struct IcmpLimit {
    tokens: u32,
    refill_at: Instant,
    /// Errors not sent because the bucket was empty.
    pub limited: u64,
    pub sent: u64,
}

impl IcmpLimit {
    pub fn new() -> IcmpLimit {
        IcmpLimit {
            tokens: ICMP_BURST,
            refill_at: Instant::ZERO,
            limited: 0,
            sent: 0,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        if now >= self.refill_at {
            self.tokens = (self.tokens + ICMP_RATE).min(ICMP_BURST.max(ICMP_RATE));
            self.refill_at = now + Duration::from_secs(1);
        }
        if self.tokens == 0 {
            self.limited += 1;
            return false;
        }
        self.tokens -= 1;
        true
    }
}

impl Default for IcmpLimit {
    fn default() -> Self {
        Self::new()
    }
}

/// What kind of ICMP error to answer with.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IcmpError {
    TtlExceeded,
    FragNeeded { mtu: u16 },
    PortUnreachable,
    NetUnreachable,
}

/// Answer the frame `frame` (arrived on `port`) with an ICMP error, if
/// RFC 1812 allows one about it and the rate limit has a token.
pub fn send_error(
    ctx: &mut Ctx,
    limit: &mut IcmpLimit,
    now: Instant,
    port: PortId,
    frame: &[u8],
    kind: IcmpError,
    tx: &mut TxQueue,
) {
    let Some(ip) = frame.get(ethernet::HEADER_LEN..) else {
        return;
    };
    if !icmp_error_allowed(ip) || !limit.take(now) {
        return;
    }
    let Some(eth_src) = frame.get(6..12).and_then(EthernetAddress::from_bytes) else {
        return;
    };
    let Some(&[a, b, c, d]) = ip.get(12..16) else {
        return;
    };
    let dst_ip = std::net::Ipv4Addr::new(a, b, c, d);
    let repr = match kind {
        IcmpError::TtlExceeded => IcmpRepr::TimeExceeded {
            code: 0,
            invoking: ip,
        },
        IcmpError::FragNeeded { mtu } => IcmpRepr::DstUnreachable {
            code: dst_unreachable::FRAG_NEEDED,
            next_hop_mtu: mtu,
            invoking: ip,
        },
        IcmpError::PortUnreachable => IcmpRepr::DstUnreachable {
            code: dst_unreachable::PORT,
            next_hop_mtu: 0,
            invoking: ip,
        },
        IcmpError::NetUnreachable => IcmpRepr::DstUnreachable {
            code: dst_unreachable::NET,
            next_hop_mtu: 0,
            invoking: ip,
        },
    };
    let src = (EthernetAddress(ctx.port_mac(port)), ctx.port_addr(port));
    let id = ctx.next_id();
    if ctx.send(tx, port, |b| {
        build::icmp_error(b, src, (eth_src, dst_ip), repr, id)
    }) {
        limit.sent += 1;
    }
}

/// Answer the TCP segment in `frame` (arrived on `port`) with a reset that
/// appears to come from its destination (a firewall reject).
/// Answer a packet a firewall rule rejected: a TCP RST for TCP, ICMP port
/// unreachable otherwise (both rate limited).
pub fn send_reject(
    ctx: &mut Ctx,
    limit: &mut IcmpLimit,
    now: Instant,
    port: PortId,
    frame: &[u8],
    proto: u8,
    tx: &mut TxQueue,
) {
    if proto == crate::wire::protocol::TCP {
        send_reset(ctx, limit, now, port, frame, tx);
    } else {
        send_error(ctx, limit, now, port, frame, IcmpError::PortUnreachable, tx);
    }
}

pub fn send_reset(
    ctx: &mut Ctx,
    limit: &mut IcmpLimit,
    now: Instant,
    port: PortId,
    frame: &[u8],
    tx: &mut TxQueue,
) {
    if !limit.take(now) {
        return;
    }
    let mac = EthernetAddress(ctx.port_mac(port));
    let id = ctx.next_id();
    if ctx.send(tx, port, |b| build::tcp_reset(b, frame, mac, id)) {
        limit.sent += 1;
    }
}
