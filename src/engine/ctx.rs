//! The engine's shared context: the running config, the ports with their
//! counters, the transmit helper, drop accounting, IP ids and the event
//! queue for the driver.
//!
//! Owns: `Port` (MAC, link, counters), the drop reasons (declared once in
//! `drop_reasons!`, which generates the enum and the name list that `show`,
//! JSON and metrics print), `Ctx::send` (queue a frame and count it) and
//! `Ctx::drop` (count a frame by reason). Every subsystem takes `&mut Ctx`
//! instead of reaching into the engine, so no borrow workarounds are needed.
//! Never: decides what to do with a frame.

use super::{EVENT_CAPACITY, Event, PortId, TxQueue};
use crate::config::Config;
use std::collections::VecDeque;
use std::net::Ipv4Addr;

/// Declares the port-level drop reasons once: the `Why` enum and
/// `DROP_REASONS`, the names in the same order.
macro_rules! drop_reasons {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Why a frame was dropped on a port (counted per port).
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub enum Why {
            $($(#[$doc])* $variant,)*
        }

        /// Port-level drop reasons, in the order `PortStatus::drops` lists them.
        pub const DROP_REASONS: &[&str] = &[$($name,)*];
    };
}

drop_reasons! {
    /// Not a valid Ethernet/ARP/IPv4 frame (lengths, IPv4 header checksum).
    Malformed => "malformed",
    /// Unicast to a MAC that is neither ours nor a virtual MAC we hold.
    NotForUs => "not_for_us",
    LinkDown => "link_down",
    /// An ethertype or protocol hagw does not handle.
    Unsupported => "unsupported",
    /// Addressed to an address that is not ours (ARP, local traffic).
    NotLocal => "not_local",
    /// The engine is shut down.
    Stopped => "stopped",
    VrrpBadDst => "vrrp_bad_dst",
    VrrpOwn => "vrrp_own",
    VrrpUnknownVrid => "vrrp_unknown_vrid",
    VrrpTtl => "vrrp_ttl",
    VrrpChecksum => "vrrp_checksum",
    VrrpVersion => "vrrp_version",
    VrrpLength => "vrrp_length",
    VrrpType => "vrrp_type",
    VrrpAddressList => "vrrp_address_list",
    VrrpAuth => "vrrp_auth",
    /// `auth_type ah`: a replayed or old AH sequence number.
    VrrpReplay => "vrrp_replay",
    VrrpInterval => "vrrp_interval",
    VrrpTooMany => "vrrp_too_many_addresses",
    /// A priority-255 advert from another router while we own the address.
    VrrpOwnerConflict => "vrrp_owner_conflict",
    /// Forwarding: arrived on a port where this router is backup of every
    /// group (a client with a stale ARP entry); the master forwards.
    NotMaster => "not_master",
    /// Forwarding: broadcast/multicast/martian addresses.
    NotRoutable => "not_routable",
    NoRoute => "no_route",
    /// TTL ran out; ICMP time exceeded sent (unless rate limited).
    TtlExceeded => "ttl_exceeded",
    /// DF set and larger than the egress MTU; ICMP fragmentation needed sent.
    FragNeeded => "frag_needed",
    /// Could not be fragmented (e.g. an MTU too small for the header).
    FragFailed => "frag_failed",
    /// A later fragment whose first fragment was never seen (or expired).
    FragNoFirst => "frag_no_first",
    /// No session and cannot start one (mid-stream TCP), or out of window.
    CtInvalid => "ct_invalid",
    /// Session table full and nothing could be evicted.
    CtFull => "ct_full",
    /// Source NAT found no free port/address for a new flow.
    NatExhausted => "nat_exhausted",
    /// A firewall rule or default action dropped it.
    FwDrop => "fw_drop",
    /// A firewall rule rejected it (TCP RST / ICMP unreachable sent).
    FwReject => "fw_reject",
    /// The next hop did not answer ARP.
    ArpFailed => "arp_failed",
    /// The queue of packets waiting for ARP was full.
    ArpQueueFull => "arp_queue_full",
    /// Addressed to the router but not answered by hagw and no host TAP
    /// (or a broadcast/multicast the host does not take).
    NoHost => "no_host",
    /// The queue of frames for the host TAPs was full.
    HostQueueFull => "host_queue_full",
    /// From the host: an ARP reply or gratuitous ARP for an address hagw
    /// answers itself (no double answers on the wire).
    HostArpAnswered => "host_arp_answered",
    /// From the host: sourced from an address that is not ours on the
    /// port now (e.g. a virtual address after leaving master).
    HostSource => "host_bad_source",
}

/// One dataplane or sync port as the core sees it.
#[derive(Clone)]
pub struct Port {
    pub mac: [u8; 6],
    pub up: bool,
    /// IP MTU of the link (the driver reports it; 1500 until then).
    pub mtu: u16,
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    pub drops: Vec<u64>,
}

impl Port {
    fn new(mac: [u8; 6]) -> Port {
        Port {
            mac,
            up: true,
            mtu: 1500,
            rx_frames: 0,
            rx_bytes: 0,
            tx_frames: 0,
            tx_bytes: 0,
            drops: vec![0; DROP_REASONS.len()],
        }
    }
}

/// The context every subsystem works in.
#[derive(Clone)]
pub struct Ctx {
    pub config: Config,
    pub ports: Vec<Port>,
    events: VecDeque<Event>,
    /// After `shutdown`: frames are dropped, timers stop.
    pub stopped: bool,
    ip_id: u16,
}

impl Ctx {
    pub fn new(config: &Config, macs: &[[u8; 6]]) -> Ctx {
        Ctx {
            config: config.clone(),
            ports: macs.iter().map(|m| Port::new(*m)).collect(),
            events: VecDeque::with_capacity(EVENT_CAPACITY),
            stopped: false,
            ip_id: 1,
        }
    }

    /// Count a frame dropped on `port` for `why`.
    pub fn drop(&mut self, port: PortId, why: Why) {
        if let Some(p) = self.ports.get_mut(port)
            && let Some(c) = p.drops.get_mut(why as usize)
        {
            *c += 1;
        }
    }

    /// Queue a frame built by `write` on `port` and count it; false when
    /// nothing was queued (the writer returned 0 or the queue is full).
    pub fn send(
        &mut self,
        tx: &mut TxQueue,
        port: PortId,
        write: impl FnOnce(&mut [u8]) -> usize,
    ) -> bool {
        let mut n = 0;
        let queued = tx.push(port, |b| {
            n = write(b);
            n
        });
        if queued && let Some(p) = self.ports.get_mut(port) {
            p.tx_frames += 1;
            p.tx_bytes += n as u64;
        }
        queued
    }

    /// The next IPv4 identification for a frame we originate.
    pub fn next_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    pub fn push_event(&mut self, e: Event) {
        if self.events.len() >= EVENT_CAPACITY {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    pub fn pop_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    #[allow(dead_code)] // used by the dataplane (issue 10)
    pub fn port_up(&self, port: PortId) -> bool {
        self.ports.get(port).is_some_and(|p| p.up)
    }

    pub fn port_mac(&self, port: PortId) -> [u8; 6] {
        self.ports.get(port).map_or([0; 6], |p| p.mac)
    }

    /// The interface's own (primary) address.
    pub fn port_addr(&self, port: PortId) -> Ipv4Addr {
        self.config
            .interfaces
            .get(port)
            .map_or(Ipv4Addr::UNSPECIFIED, |i| i.address.addr)
    }

    pub fn port_name(&self, port: PortId) -> &str {
        self.config
            .interfaces
            .get(port)
            .map_or("?", |i| i.name.as_str())
    }
}
