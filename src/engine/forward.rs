//! The forwarding path: what happens to an IPv4 packet that is not simply
//! for the router (SPEC §3). It drives the dataplane rooms in a fixed
//! order and rewrites the frame in place:
//!
//! 1. Fragments: a later fragment follows the decision recorded for its
//!    first fragment (`conntrack::frag`), or is dropped (`frag_no_first`).
//! 2. Conntrack lookup by the packet's tuple (either direction). A miss:
//!    an ICMP error is RELATED when the packet it quotes belongs to a
//!    session; a packet to one of our addresses may match a port forward
//!    (DNAT, hairpin too); anything else addressed to us is local (the
//!    caller answers echo, else `no_host`); otherwise a packet that may open
//!    a session is NEW, and anything else INVALID (no loose pick-up).
//! 3. The port must forward (a backup forwards nothing: `not_master`); TTL
//!    1 earns ICMP time exceeded.
//! 4. NEW: DNAT → route → firewall (`in` of the ingress port, `out` of the
//!    egress port) → SNAT (or the hairpin SNAT) → the session is inserted
//!    with its reply tuple. Known sessions: route and firewall with state
//!    established/related.
//! 5. MTU: DF and too big ⇒ ICMP fragmentation needed (quoting the packet
//!    as it arrived); otherwise fragmented after translation.
//! 6. Translate (and for RELATED, the quoted packet too), decrement TTL,
//!    resolve the next hop's MAC (or hold the frame for ARP), rewrite the
//!    Ethernet header, and hand the frame back: `Verdict::Forward(port)`.
//!
//! Owns: `Dataplane` (the session table, NAT, firewall, routes, neighbours,
//! the fragment table and the ICMP error limit). Never: answers local
//! traffic or VRRP (engine::local), parses a frame twice.

use super::addrs::LocalAddrs;
use super::classify::{self, Flow};
use super::ctx::{Ctx, Why};
use super::icmp::{self, IcmpError, IcmpLimit};
use super::{EngineError, MAX_FRAME, PortId, RxMeta, TxQueue, Verdict, min_opt};
use crate::config::{Config, Direction, FirewallAction};
use crate::conntrack::frag::FragTable;
use crate::conntrack::{Conntrack, CtState, Dir, InsertError, NatFlags, SessionIdx, Tuple};
use crate::firewall::{Firewall, Match};
use crate::hash::SipKey;
use crate::nat::{Nat, PortShare, Snat, hairpin_source};
use crate::route::{NeighParams, Neighbours, Resolve, RouteTable};
use crate::time::Instant;
use crate::wire::fragment::fragment;
use crate::wire::{EthernetAddress, Ipv4Packet, ethernet, protocol};
use std::net::Ipv4Addr;

/// First fragments remembered for their later fragments.
pub const FRAG_TABLE: usize = 256;

/// The keys the dataplane's tables hash with (random in the daemon, fixed
/// in the simulator).
#[derive(Copy, Clone, Debug)]
pub struct Keys {
    pub conntrack: [u8; 16],
    pub nat: SipKey,
    pub neigh: u64,
    /// Conntrack sync boot id (new at every start; the peer tells a
    /// restart from a reordered frame by it).
    pub boot: u32,
}

impl Keys {
    /// Fixed keys (tests, the simulator).
    pub fn fixed() -> Keys {
        Keys {
            conntrack: *b"hagw-fixed-key!!",
            nat: SipKey([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]),
            neigh: 0x5eed,
            boot: 1,
        }
    }
}

#[derive(Clone)]
pub struct Dataplane {
    pub ct: Conntrack,
    /// The host's own flows (engine::host): never synced, never used for
    /// forwarding; consulted by SNAT so no mapping is given out twice.
    pub host_ct: Conntrack,
    pub nat: Nat,
    pub fw: Firewall,
    pub routes: RouteTable,
    pub neigh: Neighbours,
    pub frags: FragTable<(SessionIdx, Dir)>,
    pub icmp: IcmpLimit,
}

/// A packet on its way out, with its session.
#[derive(Copy, Clone)]
struct Known {
    idx: SessionIdx,
    dir: Dir,
    /// For a RELATED ICMP error: the tuple of the packet it quotes.
    quoted: Option<Tuple>,
    /// The state the firewall sees.
    state: CtState,
    /// The firewall already passed it (the packet that opened the session).
    filtered: bool,
}

impl Known {
    fn new(idx: SessionIdx, dir: Dir, state: CtState) -> Known {
        Known {
            idx,
            dir,
            quoted: None,
            state,
            filtered: false,
        }
    }
}

/// What the lookup stage decided.
enum Decision {
    /// A session packet: (session, direction of the packet in it).
    Known(SessionIdx, Dir),
    /// An ICMP error about a session; the error runs in direction `Dir`.
    Related(SessionIdx, Dir),
    /// Could open a session; `dnat` when a port forward matched.
    New(Option<crate::nat::Dnat>),
    /// For the router itself (the caller handles it).
    Local,
}

impl Dataplane {
    pub fn new(config: &Config, keys: Keys) -> Result<Dataplane, EngineError> {
        let routes = RouteTable::new(config).map_err(|e| EngineError(e.0))?;
        Ok(Dataplane {
            ct: {
                let mut ct =
                    Conntrack::new(&config.conntrack, config.globals.node_id, keys.conntrack);
                ct.start_ids_at(keys.boot);
                ct
            },
            host_ct: {
                let mut cfg = config.conntrack.clone();
                cfg.max_entries = super::host::HOST_SESSIONS;
                let mut key = keys.conntrack;
                key.iter_mut().for_each(|b| *b ^= 0x5a);
                Conntrack::new(&cfg, config.globals.node_id, key)
            },
            nat: Nat::with_key(config, PortShare::for_config(config), keys.nat),
            fw: Firewall::new(config),
            routes,
            neigh: Neighbours::new(NeighParams::default(), keys.neigh),
            frags: FragTable::new(FRAG_TABLE),
            icmp: IcmpLimit::new(),
        })
    }

    /// A new config (SIGHUP): rules and routes are replaced, sessions kept.
    pub fn reload(&mut self, config: &Config) -> Result<(), EngineError> {
        self.routes = RouteTable::new(config).map_err(|e| EngineError(e.0))?;
        self.nat.reload(config, PortShare::for_config(config));
        self.fw.reload(config);
        Ok(())
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let t = min_opt(self.ct.poll_timeout(), self.neigh.poll_timeout());
        min_opt(t, self.host_ct.poll_timeout())
    }

    /// See `Engine::snapshot_with`.
    pub fn snapshot(&self, now: Instant, sessions: bool) -> super::DataplaneStatus {
        let list = if sessions {
            self.ct
                .iter()
                .map(|(_, s)| super::SessionStatus {
                    id: s.id(),
                    orig: s.orig(),
                    reply: s.reply(),
                    snat: s.nat().snat,
                    dnat: s.nat().dnat,
                    state: s.state_name(),
                    remaining: s.remaining(now),
                    packets: [s.packets(Dir::Original), s.packets(Dir::Reply)],
                    bytes: [s.bytes(Dir::Original), s.bytes(Dir::Reply)],
                    from_sync: s.from_sync(),
                    reported: s.reported(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let cap = self.ct.capacity().max(1);
        super::DataplaneStatus {
            sessions: list,
            conntrack: super::ConntrackStatus {
                entries: self.ct.len(),
                capacity: self.ct.capacity(),
                bytes_per_entry: self.ct.memory_bytes() / cap,
                stats: self.ct.stats().clone(),
                frag_entries: self.frags.len(now),
                frag_capacity: self.frags.capacity(),
                frag: self.frags.stats.clone(),
            },
            nat: self.nat.snapshot(),
            firewall: self.fw.snapshot(),
            routes: self.routes.snapshot(),
            neighbours: self.neigh.snapshot(now),
            neigh_counters: self.neigh.counters(),
            icmp_sent: self.icmp.sent,
            icmp_limited: self.icmp.limited,
        }
    }

    pub fn handle_timeout(
        &mut self,
        ctx: &mut Ctx,
        addrs: &LocalAddrs,
        now: Instant,
        tx: &mut TxQueue,
    ) {
        self.ct.handle_timeout(now);
        self.host_ct.handle_timeout(now);
        self.neigh.handle_timeout(now);
        self.flush_neigh(ctx, addrs, tx);
    }

    /// An ARP packet arrived on `port` (learning next hops).
    pub fn handle_arp(
        &mut self,
        ctx: &mut Ctx,
        addrs: &LocalAddrs,
        now: Instant,
        port: PortId,
        arp: &crate::wire::ArpRepr,
        tx: &mut TxQueue,
    ) {
        let to_us = addrs.owner(port, arp.target_protocol_addr).is_some();
        self.neigh.handle_arp(now, port, arp, to_us);
        self.flush_neigh(ctx, addrs, tx);
    }

    /// Send the resolver's ARP requests and the frames it released.
    #[inline(always)]
    fn flush_neigh(&mut self, ctx: &mut Ctx, addrs: &LocalAddrs, tx: &mut TxQueue) {
        if self.neigh.has_output() {
            self.flush_neigh_now(ctx, addrs, tx);
        }
    }

    // Out of line: the per-packet test above stays a few instructions.
    #[inline(never)]
    fn flush_neigh_now(&mut self, ctx: &mut Ctx, addrs: &LocalAddrs, tx: &mut TxQueue) {
        while let Some(req) = self.neigh.poll_request() {
            let mac = EthernetAddress(addrs.source_mac(req.port, ctx.port_mac(req.port)));
            let ip = ctx.port_addr(req.port);
            ctx.send(tx, req.port, |b| req.emit(b, mac, ip));
        }
        self.neigh.drain_resolved(|port, mac, frame| {
            if let Some(d) = frame.get_mut(..6) {
                d.copy_from_slice(&mac.0);
            }
            let n = frame.len();
            ctx.send(tx, port, |b| match b.get_mut(..n) {
                Some(out) => {
                    out.copy_from_slice(frame);
                    n
                }
                None => 0,
            });
            true
        });
    }

    /// Forward (or refuse) the IPv4 packet in `frame` that arrived on
    /// `port`, whose IPv4 header the caller has checked
    /// (`Ipv4Packet::new_checked` and the header checksum).
    /// `Verdict::Consumed` with nothing sent means dropped and counted,
    /// held for ARP, or `Local` for the caller (see return).
    /// Returns `None` when the packet is for the router itself.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &mut self,
        ctx: &mut Ctx,
        addrs: &LocalAddrs,
        now: Instant,
        port: PortId,
        frame: &mut [u8],
        meta: RxMeta,
        tx: &mut TxQueue,
    ) -> Option<Verdict> {
        // A partial checksum (offload) is finished first: every rewrite
        // below updates it incrementally, and the next hop verifies it.
        if meta.csum_partial {
            let done = frame
                .get_mut(ethernet::HEADER_LEN..)
                .is_some_and(|ip| crate::wire::rewrite::fill_checksums(ip).is_ok());
            if !done {
                ctx.drop(port, Why::Malformed);
                return Some(Verdict::Consumed);
            }
        }
        let Some(ip_bytes) = frame.get(ethernet::HEADER_LEN..) else {
            ctx.drop(port, Why::Malformed);
            return Some(Verdict::Consumed);
        };
        // Parsed once: engine::local checked this header (version, lengths,
        // checksum) on these very bytes before calling; the view's
        // accessors stay in bounds whatever the bytes.
        let ip = Ipv4Packet::new_unchecked(ip_bytes);
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        if src.is_multicast() || src.is_broadcast() || src.is_loopback() || dst.is_loopback() {
            ctx.drop(port, Why::NotRoutable);
            return Some(Verdict::Consumed);
        }
        // 1. Later fragments follow their first fragment.
        let pkt = if ip.frag_offset() != 0 {
            let key = classify::frag_key(&ip);
            let Some((idx, dir)) = self.frags.follow(now, &key) else {
                if addrs.find(dst).is_some() {
                    return None;
                }
                ctx.drop(port, Why::FragNoFirst);
                return Some(Verdict::Consumed);
            };
            Known::new(idx, dir, CtState::Established)
        } else {
            let flow = match classify::flow(&ip) {
                Ok(f) => f,
                Err(_) => {
                    ctx.drop(port, Why::Malformed);
                    return Some(Verdict::Consumed);
                }
            };
            let first_fragment = ip.more_frags().then(|| classify::frag_key(&ip));
            // 2. Which session, if any.
            let decision = self.decide(ctx, addrs, port, &flow);
            let pkt = match decision {
                Decision::Local => return None,
                Decision::Known(idx, dir) => match self.ct.track(now, idx, dir, &flow.info) {
                    CtState::Invalid => {
                        ctx.drop(port, Why::CtInvalid);
                        return Some(Verdict::Consumed);
                    }
                    _ => Known::new(idx, dir, CtState::Established),
                },
                Decision::Related(idx, dir) => Known {
                    quoted: flow.quoted,
                    ..Known::new(idx, dir, CtState::Related)
                },
                Decision::New(dnat) => {
                    match self.open(ctx, addrs, now, port, frame, &flow, dnat, tx) {
                        Ok(idx) => Known {
                            filtered: true,
                            ..Known::new(idx, Dir::Original, CtState::New)
                        },
                        Err(v) => return Some(v),
                    }
                }
            };
            if let Some(key) = first_fragment {
                self.frags.record(now, key, (pkt.idx, pkt.dir));
            }
            pkt
        };
        Some(self.send_known(ctx, addrs, now, port, frame, pkt, tx))
    }

    /// Step 2 of the module docs (no state changes except tracking).
    fn decide(&mut self, ctx: &mut Ctx, addrs: &LocalAddrs, port: PortId, flow: &Flow) -> Decision {
        let t = flow.info.tuple;
        if let Some((idx, dir)) = self.ct.lookup(&t) {
            return Decision::Known(idx, dir);
        }
        if let Some(q) = flow.quoted {
            // The quoted packet ran the other way: its reverse is this
            // error's direction in the session.
            if let Some((idx, dir)) = self.ct.lookup(&q.reversed()) {
                return Decision::Related(idx, dir);
            }
        }
        let local = addrs.find(t.dst).is_some();
        if !ctx.config.nat_destination.is_empty() {
            let is_addr_of = |p: PortId, a: Ipv4Addr| addrs.owner(p, a).is_some();
            if let Some(d) = self.nat.dnat(port, &t, is_addr_of) {
                return Decision::New(Some(d));
            }
        }
        if local {
            return Decision::Local;
        }
        Decision::New(None)
    }

    /// Step 4 for a NEW flow: DNAT, route, firewall, SNAT, insert.
    #[allow(clippy::too_many_arguments)]
    fn open(
        &mut self,
        ctx: &mut Ctx,
        addrs: &LocalAddrs,
        now: Instant,
        port: PortId,
        frame: &[u8],
        flow: &Flow,
        dnat: Option<crate::nat::Dnat>,
        tx: &mut TxQueue,
    ) -> Result<SessionIdx, Verdict> {
        let orig = flow.info.tuple;
        if !Conntrack::may_create(&flow.info) {
            ctx.drop(port, Why::CtInvalid);
            return Err(Verdict::Consumed);
        }
        if !addrs.forwarding(port) {
            ctx.drop(port, Why::NotMaster);
            return Err(Verdict::Consumed);
        }
        if classify::ttl_of(frame) <= 1 {
            ctx.drop(port, Why::TtlExceeded);
            icmp::send_error(
                ctx,
                &mut self.icmp,
                now,
                port,
                frame,
                IcmpError::TtlExceeded,
                tx,
            );
            return Err(Verdict::Consumed);
        }
        let mut t = orig;
        if let Some(d) = &dnat {
            t.dst = d.addr;
            t.dport = d.port;
            if t.proto == protocol::ICMP {
                t.sport = d.port;
            }
        }
        let Some(hop) = self.routes.lookup(t.dst) else {
            ctx.drop(port, Why::NoRoute);
            icmp::send_error(
                ctx,
                &mut self.icmp,
                now,
                port,
                frame,
                IcmpError::NetUnreachable,
                tx,
            );
            return Err(Verdict::Consumed);
        };
        let m = Match::from_tuple(&t, CtState::New);
        self.filter(ctx, now, port, hop.port, &m, dnat.is_some(), frame, tx)?;
        let snat = match &dnat {
            Some(d) if d.hairpin => {
                let own = ctx
                    .config
                    .interfaces
                    .get(hop.port)
                    .map(|i| i.address)
                    .unwrap_or(crate::config::Ipv4Cidr {
                        addr: Ipv4Addr::UNSPECIFIED,
                        prefix_len: 32,
                    });
                let mut vips: heapless::Vec<Ipv4Addr, 16> = heapless::Vec::new();
                for a in addrs.iter() {
                    if a.port == hop.port && matches!(a.kind, super::addrs::AddrKind::Vip(_)) {
                        let _ = vips.push(a.ip);
                    }
                }
                let src = hairpin_source(own, &vips);
                let (ct, hct) = (&self.ct, &self.host_ct);
                self.nat.hairpin_snat(d, &t, src, |r: &Tuple| {
                    ct.lookup(r).is_some() || hct.lookup(r).is_some()
                })
            }
            _ => {
                let (ct, hct) = (&self.ct, &self.host_ct);
                self.nat.snat(hop.port, &t, |r: &Tuple| {
                    ct.lookup(r).is_some() || hct.lookup(r).is_some()
                })
            }
        };
        let nat_flags = NatFlags {
            snat: matches!(snat, Snat::Mapped { .. }),
            dnat: dnat.is_some(),
        };
        match snat {
            Snat::Exhausted { .. } => {
                ctx.drop(port, Why::NatExhausted);
                return Err(Verdict::Consumed);
            }
            Snat::Mapped { addr, port: p, .. } => {
                t.src = addr;
                t.sport = p;
                if t.proto == protocol::ICMP {
                    t.dport = p;
                }
            }
            Snat::NoRule => {}
        }
        match self
            .ct
            .insert(now, orig, t.reversed(), nat_flags, &flow.info)
        {
            Ok(idx) => Ok(idx),
            Err(InsertError::Full) => {
                ctx.drop(port, Why::CtFull);
                Err(Verdict::Consumed)
            }
            Err(_) => {
                ctx.drop(port, Why::CtInvalid);
                Err(Verdict::Consumed)
            }
        }
    }

    /// The firewall's `in` (ingress port) and `out` (egress port) chains.
    /// `port_forward`: the first packet of a flow a DNAT rule opened skips
    /// the `in` chain — the port forward is its permission, as OpenWrt's
    /// fw4 accepts `ct status dnat` (the SPEC §6 example forwards WAN port
    /// 2222 while `wan_in` drops new flows); `out` still applies.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn filter(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        in_port: PortId,
        out_port: PortId,
        m: &Match,
        port_forward: bool,
        frame: &[u8],
        tx: &mut TxQueue,
    ) -> Result<(), Verdict> {
        // IP bytes, as conntrack counts them (no Ethernet header, no padding).
        let bytes = classify::ip_total_len(frame.get(ethernet::HEADER_LEN..).unwrap_or(&[]));
        let mut action = if port_forward {
            FirewallAction::Accept
        } else {
            self.fw.check(in_port, Direction::In, m, bytes)
        };
        if action == FirewallAction::Accept {
            action = self.fw.check(out_port, Direction::Out, m, bytes);
        }
        match action {
            FirewallAction::Accept => Ok(()),
            FirewallAction::Drop => {
                ctx.drop(in_port, Why::FwDrop);
                Err(Verdict::Consumed)
            }
            FirewallAction::Reject => {
                ctx.drop(in_port, Why::FwReject);
                icmp::send_reject(ctx, &mut self.icmp, now, in_port, frame, m.proto, tx);
                Err(Verdict::Consumed)
            }
        }
    }

    /// Steps 3, 5 and 6 for a packet of a session. Inlined into `forward`,
    /// its one call site (no seven-argument call and `Known` copied by
    /// value per packet).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn send_known(
        &mut self,
        ctx: &mut Ctx,
        addrs: &LocalAddrs,
        now: Instant,
        port: PortId,
        frame: &mut [u8],
        pkt: Known,
        tx: &mut TxQueue,
    ) -> Verdict {
        let Known {
            idx,
            dir,
            quoted,
            state,
            filtered,
        } = pkt;
        if !addrs.forwarding(port) {
            ctx.drop(port, Why::NotMaster);
            return Verdict::Consumed;
        }
        if classify::ttl_of(frame) <= 1 {
            ctx.drop(port, Why::TtlExceeded);
            icmp::send_error(
                ctx,
                &mut self.icmp,
                now,
                port,
                frame,
                IcmpError::TtlExceeded,
                tx,
            );
            return Verdict::Consumed;
        }
        let Some(s) = self.ct.get(idx) else {
            ctx.drop(port, Why::CtInvalid);
            return Verdict::Consumed;
        };
        // The tuple the packet carries and the one it must leave with.
        let (from, to) = match dir {
            Dir::Original => (s.orig(), s.reply().reversed()),
            Dir::Reply => (s.reply(), s.orig().reversed()),
        };
        let Some(hop) = self.routes.lookup(to.dst) else {
            ctx.drop(port, Why::NoRoute);
            return Verdict::Consumed;
        };
        // Firewall addresses: source before SNAT, destination after DNAT.
        if !filtered {
            let fw_tuple = Tuple::new(from.proto, from.src, from.sport, to.dst, to.dport);
            let m = Match::from_tuple(&fw_tuple, state);
            if self
                .filter(ctx, now, port, hop.port, &m, false, frame, tx)
                .is_err()
            {
                return Verdict::Consumed;
            }
        }
        let mtu = usize::from(ctx.ports.get(hop.port).map_or(1500, |p| p.mtu));
        let Some(ip) = frame.get_mut(ethernet::HEADER_LEN..) else {
            return Verdict::Consumed;
        };
        let total = classify::ip_total_len(ip);
        if total > mtu && classify::dont_fragment(ip) {
            ctx.drop(port, Why::FragNeeded);
            let mtu16 = u16::try_from(mtu).unwrap_or(u16::MAX);
            icmp::send_error(
                ctx,
                &mut self.icmp,
                now,
                port,
                frame,
                IcmpError::FragNeeded { mtu: mtu16 },
                tx,
            );
            return Verdict::Consumed;
        }
        // Translate. A RELATED error: its outer addresses follow the
        // session where they are the session's, and the quote is the
        // packet of the other direction.
        if let Some(q) = quoted {
            let outer_from = classify::outer_tuple(ip);
            let mut outer_to = outer_from;
            if outer_from.dst == from.dst {
                outer_to.dst = to.dst;
            }
            if outer_from.src == from.src {
                outer_to.src = to.src;
            }
            if !classify::translate(ip, &outer_from, &outer_to)
                || !classify::translate_quote(ip, &q, &to.reversed())
            {
                ctx.drop(port, Why::Malformed);
                return Verdict::Consumed;
            }
            if let Ok(mut p) = Ipv4Packet::new_checked(&mut *ip) {
                p.decrement_ttl();
            }
        } else if !classify::translate_forward(ip, &from, &to) {
            ctx.drop(port, Why::Malformed);
            return Verdict::Consumed;
        }
        self.emit(ctx, addrs, now, port, hop, frame, total > mtu, mtu, tx)
    }

    /// Resolve the next hop and send (or hold, or fragment) the frame.
    /// Inlined: its one caller passes many arguments, and the rare cases
    /// (hold, fragment) are calls of their own.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn emit(
        &mut self,
        ctx: &mut Ctx,
        addrs: &LocalAddrs,
        now: Instant,
        in_port: PortId,
        hop: crate::route::NextHop,
        frame: &mut [u8],
        too_big: bool,
        mtu: usize,
        tx: &mut TxQueue,
    ) -> Verdict {
        let src_mac = addrs.source_mac(hop.port, ctx.port_mac(hop.port));
        if let Some(s) = frame.get_mut(6..12) {
            s.copy_from_slice(&src_mac);
        }
        let mac = match self.neigh.resolve(now, hop.port, hop.via) {
            Resolve::Known(mac) => Some(mac),
            Resolve::Pending => None,
            Resolve::Failed => {
                ctx.drop(in_port, Why::ArpFailed);
                self.flush_neigh(ctx, addrs, tx);
                return Verdict::Consumed;
            }
        };
        if let Some(mac) = mac {
            if let Some(d) = frame.get_mut(..6) {
                d.copy_from_slice(&mac.0);
            }
        }
        let verdict = if too_big {
            self.fragment_out(ctx, in_port, hop.port, hop.via, mac, frame, mtu, tx);
            Verdict::Consumed
        } else if mac.is_some() {
            if let Some(p) = ctx.ports.get_mut(hop.port) {
                p.tx_frames += 1;
                p.tx_bytes += frame.len() as u64;
            }
            Verdict::Forward(hop.port)
        } else {
            self.hold(ctx, in_port, hop.port, hop.via, frame);
            Verdict::Consumed
        };
        self.flush_neigh(ctx, addrs, tx);
        verdict
    }

    /// Keep a frame until its next hop answers ARP.
    fn hold(&mut self, ctx: &mut Ctx, in_port: PortId, out: PortId, via: Ipv4Addr, frame: &[u8]) {
        use crate::route::Enqueue;
        match self.neigh.enqueue(out, via, frame) {
            Enqueue::Queued => {}
            _ => ctx.drop(in_port, Why::ArpQueueFull),
        }
    }

    /// Fragments of an over-MTU packet (DF clear), sent or held for ARP.
    #[allow(clippy::too_many_arguments)]
    fn fragment_out(
        &mut self,
        ctx: &mut Ctx,
        in_port: PortId,
        out: PortId,
        via: Ipv4Addr,
        mac: Option<EthernetAddress>,
        frame: &[u8],
        mtu: usize,
        tx: &mut TxQueue,
    ) {
        let mut eth = [0u8; ethernet::HEADER_LEN];
        let (Some(h), Some(ip)) = (
            frame.get(..ethernet::HEADER_LEN),
            frame.get(ethernet::HEADER_LEN..),
        ) else {
            return;
        };
        eth.copy_from_slice(h);
        let mut buf = [0u8; MAX_FRAME];
        let res = fragment(&eth, ip, mtu, |write| {
            let n = write(&mut buf);
            if n == 0 {
                return;
            }
            let f = &buf[..n];
            if mac.is_some() {
                ctx.send(tx, out, |b| match b.get_mut(..n) {
                    Some(o) => {
                        o.copy_from_slice(f);
                        n
                    }
                    None => 0,
                });
            } else {
                let _ = self.neigh.enqueue(out, via, f);
            }
        });
        if res.is_err() {
            ctx.drop(in_port, Why::FragFailed);
        }
    }
}
