//! Chaos in the simulator (issue 8): many seeds of random faults against
//! the gateway pair of tests/sim/config.rs (LAN and WAN groups in one sync
//! group, SNAT, conntrack sync), with invariants checked after every step.
//!
//! Faults: router kill and restart, graceful stop, link down/up of any
//! port, partitions of a segment, loss and delay on LAN/WAN/sync, bursts
//! of new flows, floods of new flows beyond the session table, a clock
//! step on one router. Invariants:
//! * at most one master per VRID once LAN and WAN have been whole (no
//!   partition, no loss, every live router's links up) for longer than
//!   Master_Down_Interval plus an advert;
//! * in that same condition, once no fault happened for that long, a
//!   master exists (the survivor took over);
//! * when a master dies, or loses its LAN or WAN link while traffic flows,
//!   after its peer has been in sync (sync segment whole, resync settled),
//!   every session it had exported is live on the new master with the same
//!   id, tuples and NAT mapping;
//! * no session table holds more than its capacity;
//! * counters never go backwards (per engine instance);
//! * no panic.
//!
//! `cargo test --test sim_chaos` runs a bounded number of seeds (CI);
//! `make chaos SEEDS=N` runs more (release build). A failing seed prints
//! the one-line command that replays it.

mod sim;

use hagw::engine::Snapshot;
use hagw::rng::XorShift64Star;
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState;
use sim::Sim;
use sim::config::gateway_config;
use sim::packet::udp;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 100);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
/// Sim time per seed.
const RUN: Duration = Duration::from_secs(60);
/// Master_Down_Interval of the lower router (3 s + skew) + one advert + margin.
const SETTLE: Duration = Duration::from_millis(5200);
const SEGMENTS: [&str; 3] = ["lan", "wan", "sync"];
/// Session table (and sync cache) capacity of each router.
const TABLE: usize = 4096;

/// How a master leaves.
#[derive(Clone, Copy, Debug)]
enum Cause {
    Death,
    /// Its LAN (0) or WAN (1) link goes down.
    LinkDown(usize),
}

struct Chaos {
    sim: Sim,
    rng: XorShift64Star,
    client: usize,
    segs: [usize; 3],
    /// Per segment: since when it has no partition and no loss.
    whole_since: [Option<Instant>; 3],
    /// Per router and port (lan, wan, sync): link up.
    links: [[bool; 3]; 2],
    /// Per router: since when its links are all up and it runs.
    steady_since: [Option<Instant>; 2],
    next_port: u16,
    /// The last fault that can leave a group without a master for up to
    /// Master_Down_Interval (a death, stop, restart, link or segment change).
    last_fault: Instant,
    /// The last clock step (a router whose clock jumps may take over until
    /// the master's next advert, like after a partition).
    last_step: Instant,
    /// Per router: (boot, counters seen last) for the monotonic check.
    last: [Option<(u32, Vec<u64>)>; 2],
    log: Vec<String>,
    pub checked_handoffs: u32,
    pub checked_sessions: u64,
    /// Hand-offs checked after a LAN/WAN link went down (not a death).
    pub checked_link_handoffs: u32,
    /// Floods that filled a table (sessions refused or evicted).
    pub full_floods: u32,
    pub clock_steps: u32,
}

fn node(id: u16, prio: u8) -> hagw::config::Config {
    gateway_config(id, prio, |_| {})
        .sync_link(&format!("172.16.0.{id}/24"))
        .conntrack_sync(|cs| {
            cs.sync_group = Some("gw".into());
            cs.resync_timeout_secs = 10;
        })
        .with(|c| {
            c.conntrack.max_entries = TABLE as u32;
            c.conntrack.external_max_entries = TABLE as u32;
        })
        .build()
}

/// Every counter of a snapshot that must never go backwards.
fn counters(s: &Snapshot) -> Vec<u64> {
    let mut v = Vec::new();
    for p in &s.ports {
        v.extend([p.rx_frames, p.rx_bytes, p.tx_frames, p.tx_bytes]);
        v.extend(p.drops.iter().map(|d| d.1));
    }
    for g in &s.groups {
        v.extend([
            g.counters.adverts_rx,
            g.counters.adverts_tx,
            g.counters.became_master,
        ]);
    }
    if let Some(d) = &s.dataplane {
        let c = &d.conntrack.stats;
        v.extend([c.inserted, c.synced]);
        v.extend([d.icmp_sent, d.icmp_limited]);
    }
    if let Some(y) = &s.sync {
        let t = &y.stats;
        v.extend([
            t.pkts_sent,
            t.bytes_sent,
            t.pkts_recv,
            t.bytes_recv,
            t.lost,
            t.nack_sent,
            t.resent,
            t.ext_created,
            y.failover.promotions,
            y.failover.committed,
        ]);
    }
    v
}

impl Chaos {
    fn new(seed: u64) -> Chaos {
        let p = sim::GatewayPair::new(seed, false, node);
        let sim = p.sim;
        let (client, lan, wan) = (p.client, p.lan_seg, p.wan_seg);
        let sync = p.sync_seg.expect("a sync link");
        let t = sim.now;
        Chaos {
            sim,
            rng: XorShift64Star::new(seed ^ 0x9e37_79b9_7f4a_7c15),
            client,
            segs: [lan, wan, sync],
            whole_since: [Some(t); 3],
            links: [[true; 3]; 2],
            steady_since: [Some(t); 2],
            next_port: 1024,
            last_fault: t,
            last_step: t,
            last: [None, None],
            log: Vec::new(),
            checked_handoffs: 0,
            checked_sessions: 0,
            checked_link_handoffs: 0,
            full_floods: 0,
            clock_steps: 0,
        }
    }

    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n.max(1)
    }

    fn note(&mut self, what: String) {
        let line = format!("{:>8.3} s  {what}", self.sim.now.as_micros() as f64 / 1e6);
        self.log.push(line);
    }

    fn snap(&self, r: usize, sessions: bool) -> Option<Snapshot> {
        Some(
            self.sim.routers[r]
                .engine
                .as_ref()?
                .snapshot_with(self.sim.clock(r), sessions),
        )
    }

    fn steady(&mut self, r: usize) {
        let ok = self.sim.alive(r) && self.links[r].iter().all(|&u| u);
        self.steady_since[r] = match (ok, self.steady_since[r]) {
            (true, Some(t)) => Some(t),
            (true, None) => Some(self.sim.now),
            (false, _) => None,
        };
    }

    fn set_whole(&mut self, s: usize, whole: bool) {
        self.whole_since[s] = match (whole, self.whole_since[s]) {
            (true, Some(t)) => Some(t),
            (true, None) => Some(self.sim.now),
            (false, _) => None,
        };
    }

    fn whole_for(&self, s: usize) -> Duration {
        self.whole_since[s].map_or(Duration::ZERO, |t| self.sim.now.saturating_since(t))
    }

    fn fault(&mut self, what: String) {
        self.last_fault = self.sim.now;
        self.note(what);
    }

    fn flows(&mut self) {
        let n = 1 + self.below(20) as u16;
        self.send_flows(n);
    }

    /// `n` new UDP flows from the client, one datagram each.
    fn send_flows(&mut self, n: u16) {
        for _ in 0..n {
            let p = self.next_port;
            self.next_port = if p >= 60_000 { 1024 } else { p + 1 };
            self.sim
                .host_send(self.client, &udp(CLIENT, p, SERVER, 53, b"q"));
        }
    }

    /// One random fault (or traffic).
    fn step(&mut self) {
        let r = self.below(2) as usize;
        match self.below(14) {
            0..=3 => self.flows(),
            12 => {
                let d = Duration::from_millis(100 + self.below(4900));
                self.fault(format!("R{r} clock steps {d:?} ahead"));
                self.last_step = self.sim.now;
                self.clock_steps += 1;
                self.sim.step_clock(r, d);
            }
            13 => {
                // A quarter more new flows than the table holds.
                let n = TABLE + TABLE / 4;
                self.note(format!("flood of {n} new flows"));
                let full = |c: &Chaos| -> u64 {
                    (0..2)
                        .filter_map(|r| c.snap(r, false)?.dataplane)
                        .map(|d| d.conntrack.stats.drop_full + d.conntrack.stats.evicted)
                        .sum()
                };
                let before = full(self);
                self.send_flows(n as u16);
                self.sim.run_for(Duration::from_millis(50));
                if full(self) > before {
                    self.full_floods += 1;
                }
            }
            4 if self.sim.alive(r) => {
                self.handoff(r, Cause::Death);
            }
            5 if self.sim.alive(r) => {
                self.fault(format!("stop R{r}"));
                self.sim.stop(r);
                self.steady(r);
            }
            4 | 5 => {
                self.fault(format!("restart R{r}"));
                self.sim.restart(r);
                self.last[r] = None;
                self.steady(r);
            }
            6 | 7 => {
                let p = self.below(3) as usize;
                let up = !self.links[r][p];
                if !up && p < 2 && self.sim.alive(r) {
                    self.handoff(r, Cause::LinkDown(p));
                    return;
                }
                self.fault(format!(
                    "R{r} {} {}",
                    SEGMENTS[p],
                    if up { "up" } else { "down" }
                ));
                self.links[r][p] = up;
                self.sim.set_link(r, SEGMENTS[p], up);
                self.steady(r);
            }
            8 => {
                let s = self.below(3) as usize;
                self.fault(format!("partition {}", SEGMENTS[s]));
                self.sim.partition(self.segs[s], &[0]);
                self.set_whole(s, false);
            }
            9 => {
                let s = self.below(3) as usize;
                let loss = [0.05, 0.2, 0.5][self.below(3) as usize];
                self.fault(format!("loss {loss} on {}", SEGMENTS[s]));
                self.sim.set_loss(self.segs[s], loss);
                self.set_whole(s, false);
            }
            10 => {
                let s = self.below(3) as usize;
                let d = Duration::from_millis(self.below(50));
                self.note(format!("delay {d:?} on {}", SEGMENTS[s]));
                self.sim.set_delay(self.segs[s], d);
            }
            _ => {
                let s = self.below(3) as usize;
                self.fault(format!("heal {}", SEGMENTS[s]));
                self.sim.heal(self.segs[s]);
                self.sim.set_loss(self.segs[s], 0.0);
                self.set_whole(s, true);
            }
        }
    }

    /// Kill router `r` or take one of its LAN/WAN links down; when it was
    /// master and its peer was in sync, check the hand-off of its sessions.
    fn handoff(&mut self, r: usize, cause: Cause) {
        let o = 1 - r;
        let in_sync = self.sim.state(r, "lan_gw") == Some(VrrpState::Master)
            && self.sim.state(o, "lan_gw") == Some(VrrpState::Backup)
            && self.whole_for(2) >= Duration::from_secs(3)
            && self.whole_for(0) >= SETTLE
            && self.whole_for(1) >= SETTLE
            && self.steady_since[o].is_some_and(|t| self.sim.now.saturating_since(t) >= SETTLE)
            && self.links[r][2]
            && self
                .snap(o, false)
                .and_then(|s| s.sync)
                .is_some_and(|s| s.resync.settled() && s.peers.iter().any(|p| p.up));
        let before: BTreeSet<(u64, hagw::conntrack::Tuple, hagw::conntrack::Tuple)> = if in_sync {
            // Quiet for longer than a sync round trip, then look.
            self.sim.run_for(Duration::from_millis(300));
            self.snap(r, true)
                .and_then(|s| s.dataplane)
                .map(|d| {
                    d.sessions
                        .iter()
                        .filter(|s| s.remaining > Duration::from_secs(10))
                        .map(|s| (s.id, s.orig, s.reply))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            BTreeSet::new()
        };
        if std::env::var_os("HAGW_CHAOS_LOG").is_some() {
            eprintln!(
                "R{r} before death: {:#?}",
                self.snap(r, false).and_then(|s| s.sync)
            );
            eprintln!(
                "R{} before death: {:#?}",
                1 - r,
                self.snap(1 - r, false).and_then(|s| s.sync)
            );
        }
        let what = match cause {
            Cause::Death => {
                self.sim.kill(r);
                format!("kill R{r}")
            }
            Cause::LinkDown(p) => {
                self.links[r][p] = false;
                self.sim.set_link(r, SEGMENTS[p], false);
                format!("R{r} {} down", SEGMENTS[p])
            }
        };
        self.fault(format!(
            "{what} (in sync: {in_sync}, {} sessions)",
            before.len()
        ));
        self.steady(r);
        if !in_sync {
            return;
        }
        let died = self.sim.now;
        let sync_before = self.snap(o, true).and_then(|s| s.sync).map(|s| {
            (
                s.resync,
                s.stats.resync_requests_sent,
                s.stats.bulk_recv,
                s.stats.lost,
                s.stats.unrecovered,
                s.stats.nack_sent,
                s.peers.clone(),
                s.external,
            )
        });
        self.sim.run_for(Duration::from_secs(5));
        let Some(at) = self.sim.entered(o, "lan_gw", VrrpState::Master, died) else {
            self.fail(&format!("R{o} did not take over from R{r} ({cause:?})"));
        };
        let after: BTreeSet<_> = self
            .snap(o, true)
            .and_then(|s| s.dataplane)
            .map(|d| d.sessions.iter().map(|s| (s.id, s.orig, s.reply)).collect())
            .unwrap_or_default();
        let missing: Vec<_> = before.difference(&after).take(3).collect();
        if !missing.is_empty() {
            let table = self
                .snap(o, false)
                .and_then(|s| s.dataplane)
                .map(|d| d.conntrack);
            self.fail(&format!(
                "R{o} (master at {:.3} s) lacks {} of R{r}'s {} exported sessions, e.g. {missing:?}\nR{o}'s sync before the death: {sync_before:#?}\nafter: {:#?}\nR{o}'s session table after: {table:#?}",
                at.as_micros() as f64 / 1e6,
                before.difference(&after).count(),
                before.len(),
                self.snap(o, false).and_then(|s| s.sync).map(|s| (s.failover, s.external, s.internal)),
            ));
        }
        self.checked_handoffs += 1;
        self.checked_sessions += before.len() as u64;
        if matches!(cause, Cause::LinkDown(_)) {
            self.checked_link_handoffs += 1;
        }
    }

    fn check(&mut self) {
        let settled = self.whole_for(0) >= SETTLE
            && self.whole_for(1) >= SETTLE
            && self.sim.now.saturating_since(self.last_step) >= SETTLE;
        for g in ["lan_gw", "wan_gw"] {
            let mut m = self.sim.masters(g);
            if settled && m.len() > 1 {
                // A preempting master and the one it replaces overlap for
                // as long as the advert takes to arrive: allow that.
                let delay = self.segs.iter().map(|&s| self.sim.segments[s].delay).max();
                self.sim
                    .run_for(delay.unwrap_or_default() + Duration::from_millis(2));
                m = self.sim.masters(g);
                if m.len() > 1 {
                    self.fail(&format!("two masters of {g}: {m:?}"));
                }
            }
            let survivor = (0..2).any(|r| {
                self.steady_since[r].is_some_and(|t| self.sim.now.saturating_since(t) >= SETTLE)
            });
            let quiet = self.sim.now.saturating_since(self.last_fault) >= SETTLE;
            if settled && survivor && quiet && m.is_empty() {
                self.fail(&format!("no master of {g}"));
            }
        }
        for r in 0..2 {
            let Some(s) = self.snap(r, false) else {
                self.last[r] = None;
                continue;
            };
            if let Some(d) = &s.dataplane
                && d.conntrack.entries > d.conntrack.capacity
            {
                self.fail(&format!(
                    "R{r}: {} sessions in a table of {}",
                    d.conntrack.entries, d.conntrack.capacity
                ));
            }
            let boot = self.sim.routers[r].boots;
            let now = counters(&s);
            if let Some((b, prev)) = &self.last[r]
                && *b == boot
                && let Some(i) = prev.iter().zip(&now).position(|(a, b)| b < a)
            {
                self.fail(&format!("R{r}: counter #{i} went backwards"));
            }
            self.last[r] = Some((boot, now));
        }
    }

    fn heal_all(&mut self) {
        for s in 0..3 {
            self.sim.heal(self.segs[s]);
            self.sim.set_loss(self.segs[s], 0.0);
            self.set_whole(s, true);
        }
        for r in 0..2 {
            for (p, name) in SEGMENTS.iter().enumerate() {
                if !self.links[r][p] {
                    self.links[r][p] = true;
                    self.sim.set_link(r, name, true);
                }
            }
            if !self.sim.alive(r) {
                self.sim.restart(r);
                self.last[r] = None;
            }
            self.steady(r);
        }
        self.fault("all healed".into());
    }

    fn fail(&self, what: &str) -> ! {
        let seed = self.sim_seed();
        panic!(
            "chaos seed {seed}: {what}\nevents:\n{}\nreplay: HAGW_CHAOS_SEED={seed} cargo test --release --test sim_chaos -- --nocapture",
            self.log.join("\n")
        );
    }

    fn sim_seed(&self) -> u64 {
        SEED.with(|s| *s.borrow())
    }
}

thread_local! {
    static SEED: std::cell::RefCell<u64> = const { std::cell::RefCell::new(0) };
}

/// What the seeds checked, summed.
#[derive(Default)]
struct Tally {
    handoffs: u64,
    link_handoffs: u64,
    sessions: u64,
    full_floods: u64,
    clock_steps: u64,
}

/// One seed: what it checked.
fn run_seed(seed: u64) -> Tally {
    SEED.with(|s| *s.borrow_mut() = seed);
    if std::env::var_os("HAGW_CHAOS_LOG").is_some() {
        hagw::cli::logger::init(log::LevelFilter::Info);
    }
    let mut c = Chaos::new(seed);
    let end = c.sim.now + RUN;
    let mut guard = 0;
    while c.sim.now < end && guard < 10_000 {
        guard += 1;
        c.step();
        let dt = Duration::from_millis(200 + c.below(1800));
        c.sim.run_for(dt);
        c.check();
    }
    // Heal everything, restart the dead: the steady state must come back;
    // then the master dies with the sessions of the whole run exported;
    // then, healed again, the new master loses its LAN or WAN link while
    // flows are live.
    let link = c.below(2) as usize;
    for cause in [Cause::Death, Cause::LinkDown(link)] {
        c.heal_all();
        c.sim.run_for(SETTLE + Duration::from_secs(12));
        c.check();
        c.flows();
        c.sim.run_for(Duration::from_secs(1));
        let Some(m) = c.sim.masters("lan_gw").first().copied() else {
            c.fail("no master after healing");
        };
        let before = c.checked_handoffs;
        c.handoff(m, cause);
        if c.checked_handoffs == before {
            c.fail(&format!("the final hand-off ({cause:?}) was not in sync"));
        }
        c.check();
    }
    c.heal_all();
    c.sim.run_for(SETTLE + Duration::from_secs(1));
    c.check();
    Tally {
        handoffs: c.checked_handoffs.into(),
        link_handoffs: c.checked_link_handoffs.into(),
        sessions: c.checked_sessions,
        full_floods: c.full_floods.into(),
        clock_steps: c.clock_steps.into(),
    }
}

fn seeds() -> Vec<u64> {
    if let Some(s) = std::env::var("HAGW_CHAOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return vec![s];
    }
    let n: u64 = std::env::var("HAGW_CHAOS_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let first: u64 = std::env::var("HAGW_CHAOS_FIRST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // Seeds that once found a bug run every time (regressions): 2887 (ids
    // repeated across restarts), 4553 (a late peer never asked for its
    // sessions), 8637 (the preemption overlap the invariant must allow),
    // 321 (a bulk into a full cache failed and its sweep emptied it), 8213
    // (a commit refused where a stale session held the NAT port).
    let mut v: Vec<u64> = (first..first + n).collect();
    v.extend([2887, 4553, 8637, 321, 8213]);
    v
}

#[test]
fn chaos_seeds_keep_the_invariants() {
    let seeds = seeds();
    let mut t = Tally::default();
    let t0 = std::time::Instant::now();
    for &s in &seeds {
        let n = run_seed(s);
        t.handoffs += n.handoffs;
        t.link_handoffs += n.link_handoffs;
        t.sessions += n.sessions;
        t.full_floods += n.full_floods;
        t.clock_steps += n.clock_steps;
    }
    println!(
        "chaos: {} seeds ({} s of simulated faults each), {} hand-offs ({} of them on a LAN/WAN link down, the rest master deaths) with {} exported sessions checked on the new master, {} floods beyond a full table, {} clock steps, no violation, {:.1} s",
        seeds.len(),
        RUN.as_secs(),
        t.handoffs,
        t.link_handoffs,
        t.sessions,
        t.full_floods,
        t.clock_steps,
        t0.elapsed().as_secs_f64()
    );
    assert!(
        t.handoffs >= 2 * seeds.len() as u64 && t.link_handoffs >= seeds.len() as u64,
        "every seed checks a hand-off after a death and one after a link down"
    );
}
