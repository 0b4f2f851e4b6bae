//! The sans-IO core: a thin dispatcher over the subsystems that do the
//! work. Drivers (the daemon, the simulator) call `handle_frame` /
//! `handle_timeout` / `set_link` with the current time and send whatever
//! lands in the `TxQueue` (and the frame `handle_frame` hands back with
//! `Verdict::Forward`); `poll_timeout` says when to call again. Owns no
//! socket, no clock, no file.
//!
//! Layout: `ctx` (config, ports, counters, drop reasons, send helper,
//! events), `groups` (the VRRP groups, sync groups, GARP), `addrs` (the
//! table of local addresses, rebuilt on transitions), `local` (frames for
//! the router itself: ARP, ICMP echo, VRRP), `host` (the path to and from
//! the kernel TAP of each port: `handle_host_frame` in, `host_frames` out).
//! Each frame is parsed once here and the parsed views are handed on.

mod addrs;
mod classify;
mod ctx;
mod failover;
mod forward;
mod groups;
mod host;
mod icmp;
mod liveness;
mod local;
mod tracks;
mod txq;
mod vrrp_ah;

use crate::config::{Config, Ipv4Cidr, Role};
use crate::time::{Duration, Instant};
use crate::vrrp::{GroupStatus, VrrpState};
use addrs::{GroupView, LocalAddrs};
use ctx::Ctx;
pub use ctx::DROP_REASONS;
use failover::SyncGlue;
pub use failover::{ExportStats, FailoverStats, SyncStatus, synced_of};
use forward::Dataplane;
pub use forward::Keys;
use groups::Groups;
use host::Host;
pub use host::{HOST_QUEUE, HostCounters};
use liveness::Liveness;
pub use liveness::{BfdStatus, TakeoverStats};
pub use tracks::TrackStatus;
use tracks::Tracks;
pub use txq::{TxFrame, TxQueue};

/// Index of a port: the position of its interface in `Config::interfaces`.
pub type PortId = usize;

/// Largest Ethernet frame the core reads or writes (no FCS).
pub const MAX_FRAME: usize = 1518;

/// Something the driver must act on outside the core (e.g. run a notify script).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Group `group` (index into `Config::vrrp_groups`) entered `state`.
    Transition { group: usize, state: VrrpState },
    /// The synced groups became master: `committed` sessions moved from the
    /// external cache into the live table (`failed` could not be), before
    /// the gratuitous ARPs and adverts queued by the same call.
    Failover { committed: u64, failed: u64 },
    /// Run the script of track `track` (index into `Config::tracks`) and
    /// report its result with `Engine::track_result` (one run at a time).
    RunScript { track: usize },
}

/// A read-only view of one port, for `show interfaces`.
#[derive(Clone, Debug, PartialEq)]
pub struct PortStatus {
    pub name: String,
    pub device: String,
    pub role: Role,
    pub mac: [u8; 6],
    pub address: Ipv4Cidr,
    pub up: bool,
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Drops by reason, e.g. ("vrrp_ttl", 3); every reason listed, zero or not.
    pub drops: Vec<(&'static str, u64)>,
    /// What the driver knows of the device (the engine leaves it default).
    pub device_state: DeviceState,
    /// The host TAP's device name and counters (None: no TAP).
    pub host_tap: Option<(String, HostCounters)>,
}

impl PortStatus {
    /// A port as the config names it, before anything is known of it:
    /// down, no MAC, zero counters, no drops, default device state, no TAP.
    pub fn new(
        name: impl Into<String>,
        device: impl Into<String>,
        role: Role,
        address: Ipv4Cidr,
    ) -> PortStatus {
        PortStatus {
            name: name.into(),
            device: device.into(),
            role,
            mac: [0; 6],
            address,
            up: false,
            rx_frames: 0,
            rx_bytes: 0,
            tx_frames: 0,
            tx_bytes: 0,
            drops: Vec::new(),
            device_state: DeviceState::default(),
            host_tap: None,
        }
    }
}

/// The driver's view of a port's device, for `show interfaces` / `show vrrp`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceState {
    /// The device does not exist (not yet, or not any more): the groups on
    /// this port are in FAULT until it appears.
    pub missing: bool,
    /// IPv4 addresses the kernel has on this hagw-owned (lan/wan) device
    /// now; SPEC §1 says there must be none.
    pub kernel_ipv4: Vec<Ipv4Cidr>,
    /// Kernel settings conflicting with hagw owning the device, warned
    /// since its socket was last opened.
    pub kernel_conflicts: u32,
}

/// Everything `hagw show` can display, taken at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub groups: Vec<GroupStatus>,
    pub ports: Vec<PortStatus>,
    /// None before the engine runs (the daemon waits for its devices).
    pub dataplane: Option<DataplaneStatus>,
    /// Conntrack sync, when configured (and the engine runs).
    pub sync: Option<SyncStatus>,
    /// BFD on the sync link, when configured.
    pub bfd: Option<BfdStatus>,
    /// Health tracks (`config track`), in config order.
    pub tracks: Vec<TrackStatus>,
    /// Set by the daemon when a SIGHUP changed the interface list: what it
    /// kept and why (None: the running config is the file's).
    pub reload_kept: Option<String>,
}

/// The dataplane's tables and counters for `show conntrack`, `show nat
/// rules`, `show firewall`, `show routes` and metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct DataplaneStatus {
    /// Live sessions; empty unless the snapshot asked for them (`show
    /// conntrack` only: copying 16k sessions for every request would waste).
    pub sessions: Vec<SessionStatus>,
    pub conntrack: ConntrackStatus,
    pub nat: crate::nat::NatSnapshot,
    pub firewall: crate::firewall::FirewallSnapshot,
    pub routes: Vec<crate::route::RouteStatus>,
    /// Every neighbour cache entry (next hops and hosts on the links).
    pub neighbours: Vec<crate::route::NeighStatus>,
    pub neigh_counters: crate::route::NeighCounters,
    /// Router-generated ICMP errors and resets sent, and those the rate
    /// limit held back.
    pub icmp_sent: u64,
    pub icmp_limited: u64,
}

/// The session table as a whole.
#[derive(Clone, Debug, PartialEq)]
pub struct ConntrackStatus {
    pub entries: usize,
    pub capacity: usize,
    /// Memory of the table divided by its capacity (index included).
    pub bytes_per_entry: usize,
    pub stats: crate::conntrack::Stats,
    pub frag_entries: usize,
    pub frag_capacity: usize,
    pub frag: crate::conntrack::frag::FragStats,
}

/// One session as `show conntrack` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionStatus {
    pub id: u64,
    /// As the opener sent it (before NAT).
    pub orig: crate::conntrack::Tuple,
    /// As the answer arrives (after NAT).
    pub reply: crate::conntrack::Tuple,
    pub snat: bool,
    pub dnat: bool,
    /// "ESTABLISHED", "SYN_SENT", … for TCP; "UNREPLIED", "REPLIED",
    /// "ASSURED" otherwise.
    pub state: &'static str,
    pub remaining: Duration,
    /// (original, reply) direction.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub from_sync: bool,
    /// Exported to the peer (in the internal cache of conntrack sync).
    pub reported: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError(pub String);

impl core::fmt::Display for EngineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the driver knows about a received frame beyond its bytes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RxMeta {
    /// The TCP/UDP checksum is partial (the sender left it to checksum
    /// offload: the field holds only the pseudo-header sum; Linux says
    /// TP_STATUS_CSUMNOTREADY). The engine completes it before it
    /// rewrites the packet, so that the incremental update is right.
    pub csum_partial: bool,
}

/// What became of a frame handed to `handle_frame`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Answered, queued, dropped (and counted) or absorbed: nothing more to do.
    Consumed,
    /// The frame was rewritten in place: send it, as it is now, on this port.
    Forward(PortId),
}

/// Spacing of the repeated gratuitous ARPs after becoming master.
pub const GARP_SPACING: Duration = Duration::from_secs(1);
/// Most events kept for the driver; the oldest is dropped beyond this.
const EVENT_CAPACITY: usize = 256;

fn min_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// The core. See the module docs for how drivers use it.
#[derive(Clone)]
pub struct Engine {
    ctx: Ctx,
    groups: Groups,
    addrs: LocalAddrs,
    dp: Dataplane,
    host: Host,
    /// Bumped whenever the local address table changes (the daemon then
    /// puts the addresses on the TAPs).
    addrs_gen: u64,
    sync: Option<SyncGlue>,
    bfd: Option<Liveness>,
    tracks: Tracks,
}

impl Engine {
    /// Build from a validated config; `macs[i]` is the MAC of `config.interfaces[i]`.
    /// All groups start in INIT; the first `handle_timeout` starts them.
    /// Tables hash with fixed keys (tests, the simulator); the daemon uses
    /// `with_keys` and random ones.
    pub fn new(config: &Config, macs: &[[u8; 6]], now: Instant) -> Result<Engine, EngineError> {
        Engine::with_keys(config, macs, now, Keys::fixed())
    }

    /// `new` with the keys the session table, NAT port search and
    /// neighbour cache hash with (random in the daemon, so nobody outside
    /// can aim collisions at one bucket).
    pub fn with_keys(
        config: &Config,
        macs: &[[u8; 6]],
        now: Instant,
        keys: Keys,
    ) -> Result<Engine, EngineError> {
        if macs.len() != config.interfaces.len() {
            return Err(EngineError(format!(
                "{} MACs for {} interfaces",
                macs.len(),
                config.interfaces.len()
            )));
        }
        let dp = Dataplane::new(config, keys)?;
        let mut e = Engine {
            ctx: Ctx::new(config, macs),
            groups: Groups::new(config, now)?,
            addrs: LocalAddrs::new(config),
            host: Host::new(config),
            addrs_gen: 0,
            sync: SyncGlue::new(
                config,
                keys.boot,
                config.conntrack.external_max_entries as usize,
            ),
            bfd: Liveness::new(config, keys.boot),
            dp,
            tracks: Tracks::new(config, now),
        };
        e.rebuild_addrs();
        e.hold_preemption();
        Ok(e)
    }

    pub fn config(&self) -> &Config {
        &self.ctx.config
    }

    /// Recompute the local address table from the group states.
    fn rebuild_addrs(&mut self) {
        let ctx = &self.ctx;
        let own = ctx
            .config
            .interfaces
            .iter()
            .zip(&ctx.ports)
            .map(|(i, p)| (i.address.addr, p.mac));
        let groups = self.groups.slots.iter().map(|s| GroupView {
            port: s.port,
            vrid: s.group.params.vrid,
            state: s.group.state(),
            rfc_mode: s.rfc_mode,
            vips: &s.group.params.vips,
        });
        self.addrs.rebuild(own, groups);
        self.addrs_gen = self.addrs_gen.wrapping_add(1);
    }

    /// After any call that may have changed a group's state: the local
    /// addresses follow, and (with sync) the commit or resync of a
    /// failover runs now, before anything this call queued is sent.
    /// (Inline: it runs after every frame, and usually nothing changed.)
    #[inline(always)]
    fn after(&mut self, now: Instant) {
        if self.groups.take_changed() {
            self.groups_changed(now);
        }
        self.hold_preemption();
    }

    #[inline(never)]
    fn groups_changed(&mut self, now: Instant) {
        self.rebuild_addrs();
        if let Some(g) = self.sync.as_mut() {
            g.groups_changed(&mut self.ctx, &self.groups, &mut self.dp, now);
        }
        if let Some(l) = self.bfd.as_mut() {
            l.groups_changed(&self.groups);
        }
    }

    /// BFD events: a fast takeover runs inside this call, like any other
    /// transition (commit, then GARP and adverts queued in `tx`).
    fn bfd_events(&mut self, now: Instant, tx: &mut TxQueue) {
        let Some(l) = self.bfd.as_mut() else {
            return;
        };
        if l.take_events(now, &self.groups) {
            let members = l.members().to_vec();
            self.groups.take_over(&mut self.ctx, now, &members, tx);
            self.after(now);
        }
    }

    /// A BFD control packet from the peer on the sync link, with its IP TTL.
    pub fn handle_bfd(&mut self, now: Instant, bytes: &[u8], ttl: u8, tx: &mut TxQueue) {
        if let Some(l) = self.bfd.as_mut() {
            let _ = l.session.handle_packet(now, bytes, ttl);
        }
        self.bfd_events(now, tx);
    }

    /// The next BFD packet for the peer (UDP to port 3784, TTL 255).
    pub fn poll_bfd_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.bfd.as_mut()?.session.poll_transmit(now, buf)
    }

    /// Whether BFD runs on the sync link.
    pub fn has_bfd(&self) -> bool {
        self.bfd.is_some()
    }

    /// While a conntrack resync is outstanding the synced groups do not
    /// preempt a lower-priority master (SPEC §4a).
    #[inline(always)]
    fn hold_preemption(&mut self) {
        let Some(g) = self.sync.as_mut() else {
            return;
        };
        if let Some(hold) = g.preempt_hold() {
            self.set_preempt_hold(hold);
        }
    }

    #[inline(never)]
    fn set_preempt_hold(&mut self, hold: bool) {
        let Some(g) = self.sync.as_mut() else {
            return;
        };
        for s in self.groups.slots.iter_mut() {
            if g.is_member(s.cfg) {
                s.group.set_preempt_hold(hold);
            }
        }
        log::info!(
            "conntrack-sync: preemption {} (resync {})",
            if hold { "held" } else { "released" },
            g.sync.resync_status().as_str()
        );
    }

    /// A datagram from the sync socket (conntrack sync). Bad frames are
    /// counted in the sync statistics.
    pub fn handle_sync(&mut self, now: Instant, bytes: &[u8]) {
        if let Some(g) = self.sync.as_mut() {
            let _ = g.sync.handle_datagram(now, bytes);
        }
        self.hold_preemption();
    }

    /// The next datagram for the sync socket, copied into `buf` (at least
    /// 1500 bytes); `None` when nothing waits.
    pub fn poll_sync_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.sync.as_mut()?.sync.poll_transmit(buf)
    }

    /// Whether conntrack sync is configured.
    pub fn has_sync(&self) -> bool {
        self.sync.is_some()
    }

    /// The driver failed to send or receive on the sync socket.
    pub fn count_sync_error(&mut self, send: bool) {
        if let Some(g) = self.sync.as_mut() {
            if send {
                g.sync.count_send_error();
            } else {
                g.sync.count_recv_error();
            }
        }
    }

    /// Once per loop turn, after the frames of the turn: session changes
    /// go out to the peer, a bulk resync steps, the sync batch is closed.
    pub fn end_of_turn(&mut self, now: Instant, tx: &mut TxQueue) {
        let Some(g) = self.sync.as_mut() else {
            return;
        };
        if g.end_of_turn(&mut self.dp.ct, now) {
            log::info!("conntrack-sync: split brain over, announcing the virtual addresses again");
            for i in 0..self.groups.slots.len() {
                let s = &self.groups.slots[i];
                if g.is_member(s.cfg) && s.group.state() == VrrpState::Master {
                    self.groups.reannounce(&mut self.ctx, i, tx);
                }
            }
        }
        self.hold_preemption();
    }

    /// A frame arrived on `port`. The core may rewrite it in place and ask
    /// for it to be sent on (`Verdict::Forward`); anything it answers or
    /// originates goes into `tx`.
    pub fn handle_frame(
        &mut self,
        now: Instant,
        port: PortId,
        frame: &mut [u8],
        tx: &mut TxQueue,
    ) -> Verdict {
        self.handle_frame_meta(now, port, frame, RxMeta::default(), tx)
    }

    /// `handle_frame` with what the driver knows about the frame (`RxMeta`).
    pub fn handle_frame_meta(
        &mut self,
        now: Instant,
        port: PortId,
        frame: &mut [u8],
        meta: RxMeta,
        tx: &mut TxQueue,
    ) -> Verdict {
        let (ctx, groups) = (&mut self.ctx, &mut self.groups);
        if self.tracks.observe(ctx, groups, now, port, frame, tx) {
            self.after(now);
            return Verdict::Consumed;
        }
        let v = local::handle_frame(
            &mut self.ctx,
            &mut self.groups,
            &self.addrs,
            &mut self.dp,
            &mut self.host,
            now,
            port,
            frame,
            meta,
            tx,
        );
        self.after(now);
        v
    }

    /// A frame the kernel wrote into `port`'s host TAP: it leaves the port
    /// (in `tx`) after the `out` chain, or is dropped and counted (see
    /// `engine::host`). Never forwarded to another port.
    pub fn handle_host_frame(
        &mut self,
        now: Instant,
        port: PortId,
        frame: &[u8],
        tx: &mut TxQueue,
    ) {
        self.host.transmit(
            &mut self.ctx,
            &self.addrs,
            &mut self.dp,
            now,
            port,
            frame,
            tx,
        );
    }

    /// Frames for the host TAPs queued since `clear_host_frames`, in order,
    /// as (port, bytes); at most `HOST_QUEUE` (beyond: `host_queue_full`).
    pub fn host_frames(&self) -> impl Iterator<Item = (PortId, &[u8])> {
        self.host.frames()
    }

    /// The driver wrote (or gave up on) the host frames.
    pub fn clear_host_frames(&mut self) {
        self.host.clear();
    }

    /// The driver could (or could not) open `port`'s TAP; without one the
    /// host's traffic is dropped as `no_host`.
    pub fn set_host_tap(&mut self, port: PortId, present: bool) {
        self.host.set_tap(port, present);
    }

    /// Changes whenever the router's local addresses change.
    pub fn addrs_generation(&self) -> u64 {
        self.addrs_gen
    }

    /// The addresses the host TAP of `port` must hold now: the interface's
    /// own address (with its prefix) unless it is an address owner's VIP
    /// and the group is not master, and the VIPs of master groups (/32).
    pub fn host_addrs(&self, port: PortId) -> Vec<crate::config::Ipv4Cidr> {
        let own = self.ctx.config.interfaces.get(port).map(|i| i.address);
        self.addrs
            .iter()
            .filter(|a| a.port == port)
            .map(|a| match own {
                Some(o) if o.addr == a.ip => o,
                _ => crate::config::Ipv4Cidr {
                    addr: a.ip,
                    prefix_len: 32,
                },
            })
            .collect()
    }

    /// Time passed; run every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant, tx: &mut TxQueue) {
        if self.ctx.stopped {
            return;
        }
        self.groups.handle_timeout(&mut self.ctx, now, tx);
        self.tracks
            .handle_timeout(&mut self.ctx, &mut self.groups, now, tx);
        self.after(now);
        self.dp.handle_timeout(&mut self.ctx, &self.addrs, now, tx);
        if let Some(g) = self.sync.as_mut() {
            g.sync.handle_timeout(now);
        }
        if let Some(l) = self.bfd.as_mut()
            && l.session.poll_timeout().is_some_and(|t| t <= now)
        {
            l.session.handle_timeout(now);
        }
        self.bfd_events(now, tx);
        self.hold_preemption();
    }

    /// When `handle_timeout` must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.ctx.stopped {
            return None;
        }
        let t = min_opt(self.groups.poll_timeout(&self.ctx), self.dp.poll_timeout());
        let t = min_opt(
            t,
            self.sync.as_ref().and_then(|g| g.poll_timeout(&self.dp.ct)),
        );
        let t = min_opt(t, self.bfd.as_ref().and_then(|l| l.session.poll_timeout()));
        min_opt(t, self.tracks.poll_timeout(&self.ctx))
    }

    /// Link state of `port` changed (tracked interfaces, FAULT).
    pub fn set_link(&mut self, now: Instant, port: PortId, up: bool, tx: &mut TxQueue) {
        self.groups.set_link(&mut self.ctx, now, port, up, tx);
        self.after(now);
    }

    /// The IP MTU of `port` (the driver reads it from the device; 1500
    /// until told). Forwarded packets larger than it are fragmented, or
    /// answered with ICMP fragmentation-needed when DF is set.
    pub fn set_mtu(&mut self, port: PortId, mtu: u16) {
        if let Some(p) = self.ctx.ports.get_mut(port) {
            p.mtu = mtu.max(68);
        }
    }

    /// The MAC of `port`'s device: a device missing when the engine was
    /// built (MAC zero, its groups in FAULT) appeared, or was re-created
    /// with another MAC. Adverts, ARP answers and forwarded frames use it
    /// from now on.
    pub fn set_mac(&mut self, port: PortId, mac: [u8; 6]) {
        if let Some(p) = self.ctx.ports.get_mut(port)
            && p.mac != mac
        {
            p.mac = mac;
            self.rebuild_addrs();
        }
    }

    /// Orderly stop: masters send priority-0 adverts.
    pub fn shutdown(&mut self, now: Instant, tx: &mut TxQueue) {
        self.groups.shutdown(&mut self.ctx, now, tx);
        self.after(now);
    }

    /// Apply a new validated config (SIGHUP); unchanged groups are not
    /// disturbed (see `Groups::reload`). The interface list must keep its
    /// names in order (the ports are fixed).
    pub fn reload(
        &mut self,
        config: &Config,
        now: Instant,
        tx: &mut TxQueue,
    ) -> Result<(), EngineError> {
        self.dp.reload(config)?;
        let r = self.groups.reload(&mut self.ctx, config, now, tx);
        if r.is_ok() {
            self.tracks
                .reload(&mut self.ctx, &mut self.groups, config, now, tx);
            self.addrs = LocalAddrs::new(config);
            self.host.reload(config);
            self.rebuild_addrs();
        }
        self.after(now);
        r
    }

    /// The script the driver ran for `Event::RunScript { track }` ended:
    /// `ok` when it exited 0 before its timeout.
    pub fn track_result(&mut self, now: Instant, track: usize, ok: bool, tx: &mut TxQueue) {
        self.tracks
            .script_result(&mut self.ctx, &mut self.groups, now, track, ok, tx);
        self.after(now);
    }

    /// Next event for the driver, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.ctx.pop_event()
    }

    /// Everything but the session list (see `snapshot_with`).
    pub fn snapshot(&self, now: Instant) -> Snapshot {
        self.snapshot_with(now, false)
    }

    /// A snapshot; `sessions`: include every live session.
    pub fn snapshot_with(&self, now: Instant, sessions: bool) -> Snapshot {
        let ctx = &self.ctx;
        let ports = ctx
            .config
            .interfaces
            .iter()
            .zip(&ctx.ports)
            .zip(&self.host.ports)
            .map(|((i, p), h)| PortStatus {
                name: i.name.clone(),
                device: i.device.clone(),
                role: i.role,
                mac: p.mac,
                address: i.address,
                up: p.up,
                rx_frames: p.rx_frames,
                rx_bytes: p.rx_bytes,
                tx_frames: p.tx_frames,
                tx_bytes: p.tx_bytes,
                drops: DROP_REASONS
                    .iter()
                    .copied()
                    .zip(p.drops.iter().copied())
                    .collect(),
                device_state: DeviceState::default(),
                host_tap: match (&i.host_tap, h.tap) {
                    (Some(name), true) => Some((name.clone(), h.clone())),
                    _ => None,
                },
            })
            .collect();
        Snapshot {
            groups: self.groups.snapshot(ctx, now),
            ports,
            dataplane: Some(self.dp.snapshot(now, sessions)),
            sync: self
                .sync
                .as_ref()
                .map(|g| g.status(&self.dp.ct, now, sessions)),
            bfd: self.bfd.as_ref().map(|l| l.status()),
            tracks: self.tracks.snapshot(now),
            reload_kept: None,
        }
    }
}
