//! A deterministic network simulator for the sans-IO engine.
//!
//! N routers (each an `Engine` with its own `Config` and MACs) are attached
//! by their ports to virtual Ethernet segments. A virtual clock jumps to the
//! earliest deadline among the engines and the frames in flight. Faults the
//! tests can inject: per-segment loss probability and delay, partitions of a
//! segment, kill (the router goes silent, no priority 0), restart (a new
//! Engine from the same config), graceful stop (`shutdown()` → priority 0),
//! link down/up on one port (`set_link`), and raw frames injected into a
//! router's port. Everything random comes from one seeded xorshift64*, so a
//! seed gives the same trace every time. The trace records every state
//! transition as (time, router, group, state); `sent` records every frame.
#![allow(dead_code)]

pub mod config;
pub mod host;
pub mod packet;

use hagw::config::Config;
use hagw::engine::{Engine, Event, TxQueue, Verdict};
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState;
use host::Host;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The crate's xorshift64* (`hagw::rng`), with floats for loss decisions.
pub struct Rng(hagw::rng::XorShift64Star);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(hagw::rng::XorShift64Star::new(seed))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    pub at: Instant,
    pub router: usize,
    pub group: String,
    pub state: VrrpState,
}

#[derive(Clone, Debug)]
pub struct Sent {
    pub at: Instant,
    pub router: usize,
    pub port: usize,
    pub bytes: Vec<u8>,
}

pub struct Router {
    pub name: String,
    pub config: Config,
    pub macs: Vec<[u8; 6]>,
    pub engine: Option<Engine>,
    /// Link state per port, as the simulator sees it.
    pub links: Vec<bool>,
    tx: TxQueue,
    /// Starts so far (the conntrack-sync boot id of the running engine).
    pub boots: u32,
    /// Events other than transitions (failover commits), oldest first.
    pub events: Vec<(Instant, Event)>,
    /// Frames the engine wrote to its host TAPs: (when, port, bytes).
    pub to_host: Vec<(Instant, usize, Vec<u8>)>,
    /// How far this router's clock runs ahead of the simulator's (a clock
    /// step, see `Sim::step_clock`); the engine only ever sees its own clock.
    pub ahead: Duration,
}

pub struct Segment {
    pub name: String,
    /// (router, port) attachments.
    pub members: Vec<(usize, usize)>,
    pub loss: f64,
    pub delay: Duration,
    /// Partition side per member; frames cross only between equal sides.
    pub side: Vec<u8>,
}

struct Flight {
    to_router: usize,
    to_port: usize,
    bytes: Vec<u8>,
    kind: Kind,
}

/// What a flight carries: an Ethernet frame for a port, or a datagram for
/// one of the sync link's sockets (conntrack sync, BFD).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Frame,
    Sync,
    Bfd,
}

pub struct Sim {
    pub now: Instant,
    pub routers: Vec<Router>,
    pub segments: Vec<Segment>,
    pub trace: Vec<TraceEntry>,
    pub sent: Vec<Sent>,
    /// Record every sent frame in `sent` (off for long soaks).
    pub record: bool,
    pub rng: Rng,
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
    flights: std::collections::HashMap<u64, Flight>,
    seq: u64,
    pub delivered: u64,
    pub lost: u64,
    /// End hosts (clients, servers) attached to segments.
    pub hosts: Vec<Host>,
    /// Health-check scripts the engines asked for: (when, router, track).
    pub scripts: Vec<(Instant, usize, usize)>,
    /// How a script of (router, track) ends `SCRIPT_RUN` after it starts:
    /// Some(exit 0?), or None = it hangs (never reported). Default: success.
    pub script_ok: std::collections::HashMap<(usize, usize), Option<bool>>,
    running_scripts: Vec<(Instant, usize, usize)>,
}

/// How long a simulated health-check script runs.
pub const SCRIPT_RUN: Duration = Duration::from_millis(20);

/// Segment member ids at or above this are hosts (`HOST_BASE + index`).
pub const HOST_BASE: usize = 1 << 20;

/// Hand `frame` to the engine; a frame it forwards (rewritten in place)
/// joins its transmit queue for the output port, as the daemon sends it.
fn deliver(e: &mut Engine, now: Instant, port: usize, frame: &mut [u8], tx: &mut TxQueue) {
    if let Verdict::Forward(out) = e.handle_frame(now, port, frame, tx) {
        tx.push(out, |b| {
            let n = frame.len().min(b.len());
            b[..n].copy_from_slice(&frame[..n]);
            n
        });
    }
}

/// Default one-way delay of a segment.
pub const LINK_DELAY: Duration = Duration::from_micros(100);

impl Sim {
    pub fn new(seed: u64) -> Sim {
        Sim {
            now: Instant::from_secs(1),
            routers: Vec::new(),
            segments: Vec::new(),
            trace: Vec::new(),
            sent: Vec::new(),
            record: true,
            rng: Rng::new(seed),
            queue: BinaryHeap::new(),
            flights: std::collections::HashMap::new(),
            seq: 0,
            delivered: 0,
            lost: 0,
            hosts: Vec::new(),
            scripts: Vec::new(),
            script_ok: std::collections::HashMap::new(),
            running_scripts: Vec::new(),
        }
    }

    /// Add a router; its MACs are 02:00:00:00:RR:PP. The engine starts now.
    pub fn add_router(&mut self, name: &str, config: Config) -> usize {
        let r = self.routers.len();
        let macs: Vec<[u8; 6]> = (0..config.interfaces.len())
            .map(|p| [0x02, 0, 0, 0, r as u8 + 1, p as u8 + 1])
            .collect();
        let engine = Engine::new(&config, &macs, self.now).unwrap();
        self.routers.push(Router {
            name: name.into(),
            links: vec![true; macs.len()],
            config,
            macs,
            engine: Some(engine),
            tx: TxQueue::with_capacity(256),
            boots: 1,
            events: Vec::new(),
            to_host: Vec::new(),
            ahead: Duration::ZERO,
        });
        r
    }

    pub fn port(&self, router: usize, iface: &str) -> usize {
        self.routers[router]
            .config
            .interface_index(iface)
            .unwrap_or_else(|| panic!("router {router} has no interface {iface}"))
    }

    /// Connect `(router, interface name)` pairs into one segment.
    pub fn connect(&mut self, name: &str, members: &[(usize, &str)]) -> usize {
        let members: Vec<(usize, usize)> = members
            .iter()
            .map(|(r, i)| (*r, self.port(*r, i)))
            .collect();
        let n = members.len();
        self.segments.push(Segment {
            name: name.into(),
            members,
            loss: 0.0,
            delay: LINK_DELAY,
            side: vec![0; n],
        });
        self.segments.len() - 1
    }

    pub fn set_loss(&mut self, seg: usize, loss: f64) {
        self.segments[seg].loss = loss;
    }

    pub fn set_delay(&mut self, seg: usize, delay: Duration) {
        self.segments[seg].delay = delay;
    }

    /// Split a segment: routers listed in `isolated` only hear each other.
    pub fn partition(&mut self, seg: usize, isolated: &[usize]) {
        let s = &mut self.segments[seg];
        for (k, (r, _)) in s.members.iter().enumerate() {
            s.side[k] = u8::from(isolated.contains(r));
        }
    }

    pub fn heal(&mut self, seg: usize) {
        self.segments[seg].side.iter_mut().for_each(|x| *x = 0);
    }

    /// The router goes silent at once: no priority 0, frames to it vanish.
    pub fn kill(&mut self, r: usize) {
        self.routers[r].engine = None;
    }

    /// Orderly stop: `shutdown()` (masters send priority 0), then silence.
    pub fn stop(&mut self, r: usize) {
        let now = self.clock(r);
        let rt = &mut self.routers[r];
        if let Some(e) = rt.engine.as_mut() {
            e.shutdown(now, &mut rt.tx);
        }
        self.after_call(r);
        self.routers[r].engine = None;
    }

    /// A new engine from the same config and MACs; links keep their state.
    pub fn restart(&mut self, r: usize) {
        let now = self.clock(r);
        let rt = &mut self.routers[r];
        rt.boots += 1;
        let keys = hagw::engine::Keys {
            boot: rt.boots,
            ..hagw::engine::Keys::fixed()
        };
        let mut e = Engine::with_keys(&rt.config, &rt.macs, now, keys).unwrap();
        for (p, up) in rt.links.iter().enumerate() {
            if !up {
                e.set_link(now, p, false, &mut rt.tx);
            }
        }
        rt.engine = Some(e);
        self.after_call(r);
    }

    /// Router `r`'s clock: the simulator's plus its step.
    pub fn clock(&self, r: usize) -> Instant {
        self.now + self.routers[r].ahead
    }

    /// Router `r`'s clock jumps `d` ahead (a VM resumed, a suspended
    /// process, a stepped clock): its timers that are now due fire at once.
    pub fn step_clock(&mut self, r: usize, d: Duration) {
        self.routers[r].ahead += d;
    }

    pub fn alive(&self, r: usize) -> bool {
        self.routers[r].engine.is_some()
    }

    pub fn set_link(&mut self, r: usize, iface: &str, up: bool) {
        let p = self.port(r, iface);
        let now = self.clock(r);
        let rt = &mut self.routers[r];
        rt.links[p] = up;
        if let Some(e) = rt.engine.as_mut() {
            e.set_link(now, p, up, &mut rt.tx);
        }
        self.after_call(r);
    }

    /// Apply a new config to a running router (SIGHUP).
    pub fn reload(&mut self, r: usize, config: Config) {
        let now = self.clock(r);
        let rt = &mut self.routers[r];
        if let Some(e) = rt.engine.as_mut() {
            e.reload(&config, now, &mut rt.tx).unwrap();
        }
        rt.config = config;
        self.after_call(r);
    }

    /// Hand a raw frame to a router's port now, as if it came off the wire.
    pub fn inject(&mut self, r: usize, iface: &str, frame: &[u8]) {
        let p = self.port(r, iface);
        let now = self.clock(r);
        let rt = &mut self.routers[r];
        if let Some(e) = rt.engine.as_mut() {
            let mut buf = frame.to_vec();
            deliver(e, now, p, &mut buf, &mut rt.tx);
        }
        self.after_call(r);
    }

    /// The kernel behind router `r`'s host TAP on `iface` writes `frame`.
    pub fn host_write(&mut self, r: usize, iface: &str, frame: &[u8]) {
        let p = self.port(r, iface);
        let now = self.clock(r);
        let rt = &mut self.routers[r];
        if let Some(e) = rt.engine.as_mut() {
            e.handle_host_frame(now, p, frame, &mut rt.tx);
        }
        self.after_call(r);
    }

    /// Drain a router's events into the trace and its frames onto the wire.
    fn after_call(&mut self, r: usize) {
        let (now, clock) = (self.now, self.clock(r));
        let rt = &mut self.routers[r];
        let mut datagrams = Vec::new();
        if let Some(e) = rt.engine.as_mut() {
            for (p, b) in e.host_frames() {
                rt.to_host.push((now, p, b.to_vec()));
            }
            e.clear_host_frames();
            e.end_of_turn(clock, &mut rt.tx);
            while let Some(ev) = e.poll_event() {
                match ev {
                    Event::Transition { group, state } => self.trace.push(TraceEntry {
                        at: now,
                        router: r,
                        group: e.config().vrrp_groups[group].name.clone(),
                        state,
                    }),
                    Event::RunScript { track } => {
                        self.scripts.push((now, r, track));
                        self.running_scripts.push((now + SCRIPT_RUN, r, track));
                    }
                    other => rt.events.push((now, other)),
                }
            }
            let mut buf = [0u8; 1500];
            while let Some(n) = e.poll_sync_transmit(&mut buf) {
                datagrams.push((Kind::Sync, buf[..n].to_vec()));
            }
            while let Some(n) = e.poll_bfd_transmit(clock, &mut buf) {
                datagrams.push((Kind::Bfd, buf[..n].to_vec()));
            }
        }
        let frames: Vec<(usize, Vec<u8>)> = rt.tx.iter().map(|(p, b)| (p, b.to_vec())).collect();
        rt.tx.clear();
        let sync_port = rt
            .config
            .conntrack_sync
            .as_ref()
            .and_then(|cs| rt.config.interface_index(&cs.interface));
        for (kind, d) in datagrams {
            // Sync datagrams need the sync link up; they travel its segment.
            if let Some(p) = sync_port
                && self.routers[r].links.get(p).copied().unwrap_or(false)
            {
                self.transmit_as((r, p), d, kind);
            }
        }
        for (port, bytes) in frames {
            if !self.routers[r].links.get(port).copied().unwrap_or(false) {
                continue;
            }
            if self.record {
                self.sent.push(Sent {
                    at: now,
                    router: r,
                    port,
                    bytes: bytes.clone(),
                });
            }
            self.transmit((r, port), bytes);
        }
    }

    /// Put a frame sent by member `from` on every segment it is attached to.
    fn transmit(&mut self, from: (usize, usize), bytes: Vec<u8>) {
        self.transmit_as(from, bytes, Kind::Frame)
    }

    fn transmit_as(&mut self, from: (usize, usize), bytes: Vec<u8>, kind: Kind) {
        let now = self.now;
        for s in 0..self.segments.len() {
            let seg = &self.segments[s];
            let Some(me) = seg.members.iter().position(|m| *m == from) else {
                continue;
            };
            for k in 0..seg.members.len() {
                let seg = &self.segments[s];
                if k == me || seg.side[k] != seg.side[me] {
                    continue;
                }
                let (loss, delay, (tr, tp)) = (seg.loss, seg.delay, seg.members[k]);
                if loss > 0.0 && self.rng.next_f64() < loss {
                    self.lost += 1;
                    continue;
                }
                self.seq += 1;
                self.queue.push(Reverse((now + delay, self.seq)));
                self.flights.insert(
                    self.seq,
                    Flight {
                        to_router: tr,
                        to_port: tp,
                        bytes: bytes.clone(),
                        kind,
                    },
                );
            }
        }
    }

    /// Add an end host (see `host::Host`); attach it with
    /// `connect(.., &[(sim.host_member(h), "")])`-style via `connect_host`.
    pub fn add_host(&mut self, host: Host) -> usize {
        self.hosts.push(host);
        self.hosts.len() - 1
    }

    /// Attach host `h` to segment `seg`.
    pub fn connect_host(&mut self, seg: usize, h: usize) {
        let s = &mut self.segments[seg];
        s.members.push((HOST_BASE + h, 0));
        s.side.push(0);
    }

    /// Host `h` sends `ip`, then the simulation runs 20 ms (ARP and all).
    pub fn send(&mut self, h: usize, ip: &[u8]) {
        self.host_send(h, ip);
        self.run_for(Duration::from_millis(20));
    }

    /// How many packets host `h` has received (a mark for `got`).
    pub fn mark(&self, h: usize) -> usize {
        self.hosts[h].received.len()
    }

    /// Packets host `h` received since mark `from`, parsed by the
    /// independent codec (which verifies every checksum).
    pub fn got(&self, h: usize, from: usize) -> Vec<packet::Pkt> {
        self.hosts[h].received[from..]
            .iter()
            .map(|(_, b)| {
                packet::parse(b).expect("every packet a host receives has valid checksums")
            })
            .collect()
    }

    /// Host `h` sends the IPv4 packet `ip` (routed by its own table now).
    pub fn host_send(&mut self, h: usize, ip: &[u8]) {
        let now = self.now;
        let frames = self.hosts[h].send_ip(now, ip);
        self.host_out(h, frames);
    }

    fn host_out(&mut self, h: usize, frames: Vec<Vec<u8>>) {
        for f in frames {
            self.transmit((HOST_BASE + h, 0), f);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut t = self.queue.peek().map(|Reverse((at, _))| *at);
        for (at, _, _) in &self.running_scripts {
            t = Some(t.map_or(*at, |x: Instant| x.min(*at)));
        }
        for rt in &self.routers {
            // Engine deadlines are on the router's clock.
            if let Some(d) = rt.engine.as_ref().and_then(|e| e.poll_timeout()) {
                let d = d - rt.ahead;
                t = Some(t.map_or(d, |x: Instant| x.min(d)));
            }
        }
        t
    }

    /// Run every event up to and including `until`; the clock ends at `until`.
    pub fn run_until(&mut self, until: Instant) {
        let mut guard = 0u64;
        while let Some(next) = self.next_deadline() {
            if next > until {
                break;
            }
            guard += 1;
            assert!(guard < 50_000_000, "simulator livelock at {:?}", self.now);
            self.now = self.now.max(next);
            let now = self.now;
            while let Some(Reverse((at, seq))) = self.queue.peek().copied() {
                if at > now {
                    break;
                }
                self.queue.pop();
                let Some(f) = self.flights.remove(&seq) else {
                    continue;
                };
                if f.to_router >= HOST_BASE {
                    let h = f.to_router - HOST_BASE;
                    let out = self.hosts[h].receive(now, &f.bytes);
                    self.host_out(h, out);
                    continue;
                }
                let rt = &mut self.routers[f.to_router];
                if !rt.links[f.to_port] {
                    continue;
                }
                let clock = now + rt.ahead;
                if let Some(e) = rt.engine.as_mut() {
                    self.delivered += 1;
                    let mut bytes = f.bytes;
                    match f.kind {
                        Kind::Sync => e.handle_sync(clock, &bytes),
                        Kind::Bfd => e.handle_bfd(clock, &bytes, 255, &mut rt.tx),
                        Kind::Frame => deliver(e, clock, f.to_port, &mut bytes, &mut rt.tx),
                    }
                    self.after_call(f.to_router);
                }
            }
            let (done, rest): (Vec<_>, Vec<_>) = self
                .running_scripts
                .drain(..)
                .partition(|(at, _, _)| *at <= now);
            self.running_scripts = rest;
            for (_, r, track) in done {
                let answer = self
                    .script_ok
                    .get(&(r, track))
                    .copied()
                    .unwrap_or(Some(true));
                let rt = &mut self.routers[r];
                let clock = now + rt.ahead;
                if let (Some(ok), Some(e)) = (answer, rt.engine.as_mut()) {
                    e.track_result(clock, track, ok, &mut rt.tx);
                    self.after_call(r);
                }
            }
            for r in 0..self.routers.len() {
                let rt = &mut self.routers[r];
                let clock = now + rt.ahead;
                if let Some(e) = rt.engine.as_mut()
                    && e.poll_timeout().is_some_and(|d| d <= clock)
                {
                    e.handle_timeout(clock, &mut rt.tx);
                    self.after_call(r);
                }
            }
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Current state of `group` on router `r` (None when dead or unknown).
    pub fn state(&self, r: usize, group: &str) -> Option<VrrpState> {
        let e = self.routers[r].engine.as_ref()?;
        let idx = e
            .config()
            .vrrp_groups
            .iter()
            .position(|g| g.name == group)?;
        e.snapshot(self.clock(r)).groups.get(idx).map(|g| g.state)
    }

    /// Routers that are MASTER of `group` now.
    pub fn masters(&self, group: &str) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|r| self.state(*r, group) == Some(VrrpState::Master))
            .collect()
    }

    /// First time at or after `from` that router `r` entered `state` for `group`.
    pub fn entered(
        &self,
        r: usize,
        group: &str,
        state: VrrpState,
        from: Instant,
    ) -> Option<Instant> {
        self.trace
            .iter()
            .find(|t| t.at >= from && t.router == r && t.group == group && t.state == state)
            .map(|t| t.at)
    }

    /// Times router `r` sent a VRRP advert for `vrid` (with its priority).
    pub fn adverts(&self, r: usize, vrid: u8) -> Vec<(Instant, u8)> {
        self.sent
            .iter()
            .filter(|s| s.router == r)
            .filter_map(|s| {
                advert_of(&s.bytes)
                    .filter(|a| a.0 == vrid)
                    .map(|a| (s.at, a.1))
            })
            .collect()
    }
}

/// Router `r`'s first group, as `show vrrp` sees it.
pub fn group_status(sim: &Sim, r: usize) -> hagw::vrrp::GroupStatus {
    sim.routers[r]
        .engine
        .as_ref()
        .unwrap()
        .snapshot(sim.now)
        .groups[0]
        .clone()
}

/// Router `r`'s drop counter `reason` on its first port.
pub fn port_drop(sim: &Sim, r: usize, reason: &str) -> u64 {
    let s = sim.routers[r].engine.as_ref().unwrap().snapshot(sim.now);
    s.ports[0]
        .drops
        .iter()
        .find(|(n, _)| *n == reason)
        .unwrap()
        .1
}

/// The checksum to put in an IPv4 header `h` whose checksum field is 0.
pub fn ip_checksum(h: &[u8]) -> u16 {
    csum(h, 0)
}

/// (vrid, priority) of a VRRP advert frame.
pub fn advert_of(b: &[u8]) -> Option<(u8, u8)> {
    if b.len() < 14 + 20 + 8 || b[12..14] != [0x08, 0x00] || b[14 + 9] != 112 {
        return None;
    }
    Some((b[14 + 20 + 1], b[14 + 20 + 2]))
}

/// The VIP of a gratuitous ARP (request with sender IP == target IP).
pub fn garp_of(b: &[u8]) -> Option<std::net::Ipv4Addr> {
    if b.len() < 42 || b[12..14] != [0x08, 0x06] || b[20..22] != [0, 1] || b[28..32] != b[38..42] {
        return None;
    }
    Some(std::net::Ipv4Addr::new(b[28], b[29], b[30], b[31]))
}

fn csum(data: &[u8], mut acc: u32) -> u16 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        acc += u32::from(w);
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// A hand-built advert frame (independent of the engine's codec) for
/// injection tests. `ttl`, `version`, auth and checksum are as given, so a
/// test can make any one of them wrong.
pub struct AdvertFrame {
    pub src: std::net::Ipv4Addr,
    pub dst: std::net::Ipv4Addr,
    pub ttl: u8,
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    pub interval: u16,
    pub auth: Option<[u8; 8]>,
    pub vips: Vec<std::net::Ipv4Addr>,
    pub corrupt_checksum: bool,
}

impl AdvertFrame {
    pub fn v2(src: &str, vrid: u8, priority: u8, vips: &[&str]) -> AdvertFrame {
        AdvertFrame {
            src: src.parse().unwrap(),
            dst: std::net::Ipv4Addr::new(224, 0, 0, 18),
            ttl: 255,
            version: 2,
            vrid,
            priority,
            interval: 1,
            auth: None,
            vips: vips.iter().map(|v| v.parse().unwrap()).collect(),
            corrupt_checksum: false,
        }
    }

    pub fn build(&self) -> Vec<u8> {
        let mut v = vec![
            (self.version << 4) | 1,
            self.vrid,
            self.priority,
            self.vips.len() as u8,
        ];
        if self.version == 2 {
            v.push(u8::from(self.auth.is_some()));
            v.push(self.interval as u8);
        } else {
            v.extend_from_slice(&(self.interval & 0xfff).to_be_bytes());
        }
        v.extend_from_slice(&[0, 0]);
        for a in &self.vips {
            v.extend_from_slice(&a.octets());
        }
        if self.version == 2 {
            v.extend_from_slice(&self.auth.unwrap_or([0; 8]));
        }
        let mut acc = 0u32;
        if self.version == 3 {
            for w in [self.src.octets(), self.dst.octets()] {
                acc += u32::from(u16::from_be_bytes([w[0], w[1]]))
                    + u32::from(u16::from_be_bytes([w[2], w[3]]));
            }
            acc += 112 + v.len() as u32;
        }
        let mut c = csum(&v, acc);
        if self.corrupt_checksum {
            c ^= 0x5555;
        }
        v[6..8].copy_from_slice(&c.to_be_bytes());
        let mut f = vec![
            0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x02, 0xee, 0, 0, 0, 1, 0x08, 0x00,
        ];
        let total = (20 + v.len()) as u16;
        let mut ip = vec![0x45, 0xc0];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[0, 1, 0, 0, self.ttl, 112, 0, 0]);
        ip.extend_from_slice(&self.src.octets());
        ip.extend_from_slice(&self.dst.octets());
        let c = csum(&ip, 0);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&v);
        f
    }
}

/// An ARP request frame from `sender` (MAC 02:ee:..:02) asking for `target`.
pub fn arp_request(sender: &str, target: &str) -> Vec<u8> {
    let s: std::net::Ipv4Addr = sender.parse().unwrap();
    let t: std::net::Ipv4Addr = target.parse().unwrap();
    let mac = [0x02, 0xee, 0, 0, 0, 2];
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&mac);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&s.octets());
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&t.octets());
    f
}

/// (sender MAC, sender IP) of an ARP reply frame.
pub fn arp_reply_of(b: &[u8]) -> Option<([u8; 6], std::net::Ipv4Addr)> {
    if b.len() < 42 || b[12..14] != [0x08, 0x06] || b[20..22] != [0, 2] {
        return None;
    }
    let mut m = [0u8; 6];
    m.copy_from_slice(&b[22..28]);
    Some((m, std::net::Ipv4Addr::new(b[28], b[29], b[30], b[31])))
}

/// Two gateways as `tests/sim/config.rs` builds them (R0 from
/// `config(1, 200)`, R1 from `config(2, 100)`), their LAN and WAN (and the
/// sync link when the configs have a `sync` interface) connected, a client
/// 192.168.10.100 behind the LAN virtual address and a server 10.0.0.100
/// on the WAN; run until 6 s, when R0 must be master. `record` says
/// whether the simulator keeps its trace.
pub struct GatewayPair {
    pub sim: Sim,
    pub client: usize,
    pub server: usize,
    pub lan_seg: usize,
    pub wan_seg: usize,
    pub sync_seg: Option<usize>,
}

impl GatewayPair {
    pub fn new(seed: u64, record: bool, config: impl Fn(u16, u8) -> Config) -> GatewayPair {
        let mut sim = Sim::new(seed);
        sim.record = record;
        sim.add_router("R0", config(1, 200));
        sim.add_router("R1", config(2, 100));
        let lan = sim.connect("lan", &[(0, "lan"), (1, "lan")]);
        let wan = sim.connect("wan", &[(0, "wan"), (1, "wan")]);
        let sync_seg = sim.routers[0]
            .config
            .interface_index("sync")
            .map(|_| sim.connect("sync", &[(0, "sync"), (1, "sync")]));
        let client = sim.add_host(Host::new(
            "client",
            1,
            "192.168.10.100/24",
            Some("192.168.10.1"),
        ));
        let server = sim.add_host(Host::new("server", 3, "10.0.0.100/24", None));
        sim.connect_host(lan, client);
        sim.connect_host(wan, server);
        sim.run_until(Instant::from_secs(6));
        assert_eq!(sim.masters("lan_gw"), vec![0]);
        assert_eq!(sim.masters("wan_gw"), vec![0]);
        GatewayPair {
            sim,
            client,
            server,
            lan_seg: lan,
            wan_seg: wan,
            sync_seg,
        }
    }
}
