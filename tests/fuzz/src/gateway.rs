//! The router the stateful harnesses drive: the SPEC §6 gateway (LAN/WAN
//! groups in a sync group, SNAT, a port forward, a default-drop WAN
//! ruleset), a default route, conntrack sync with BFD and fast takeover on
//! a sync link, small tables so floods reach their limits. Ports: 0 LAN,
//! 1 WAN, 2 sync. Also the hosts around it, for seeds.

use super::simcfg::gateway_config;
use hagw::config::{BfdSettings, Config};
use hagw::engine::{Engine, MAX_FRAME, TxQueue};
use hagw::time::{Duration, Instant};
use hagw::wire::rewrite::fill_checksums;
use std::cell::{Cell, RefCell};
use std::net::Ipv4Addr;

pub const PORTS: usize = 3;
/// The sync key when a harness runs keyed.
pub const KEY: &str = "fuzz-sync-key";
pub const START: Instant = Instant::from_secs(1);

pub const LAN_HOST: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 100);
pub const LAN_HOST_MAC: [u8; 6] = [2, 0, 0, 0, 0xaa, 1];
pub const WAN_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 200);
pub const WAN_HOST_MAC: [u8; 6] = [2, 0, 0, 0, 0xbb, 1];
pub const WAN_GW: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
pub const WAN_GW_MAC: [u8; 6] = [2, 0, 0, 0, 0xbb, 0xfe];
pub const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
pub const VIP_LAN: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 1);
pub const VIP_WAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The VRRP virtual MAC of VRID `v`.
pub fn vmac(v: u8) -> [u8; 6] {
    [0, 0, 0x5e, 0, 1, v]
}

/// The router's MAC on `port`.
pub fn mac(port: usize) -> [u8; 6] {
    [2, 0, 0, 0, 1, port as u8 + 1]
}

/// The gateway without the sync link (no sync, no BFD: a third of the
/// setup cost), for the frame target.
pub fn plain_config() -> Config {
    gateway_config(1, 200, |_| {})
        .route("0.0.0.0/0", Some("10.0.0.254"), "wan")
        .with(|c| c.conntrack.max_entries = 64)
        .build()
}

/// Node `node` at `prio` (its addresses are .node+1).
pub fn config(node: u16, prio: u8, keyed: bool) -> Config {
    gateway_config(node, prio, |_| {})
        .route("0.0.0.0/0", Some("10.0.0.254"), "wan")
        .sync_link(&format!("172.16.0.{node}/24"))
        .conntrack_sync(|cs| {
            cs.sync_group = Some("gw".into());
            cs.bfd = BfdSettings {
                enabled: true,
                min_tx_ms: 10,
                min_rx_ms: 10,
                multiplier: 3,
            };
            cs.fast_takeover = true;
            cs.resync_timeout_secs = 2;
            if keyed {
                cs.auth_key = Some(KEY.into());
            }
        })
        .with(|c| {
            c.conntrack.max_entries = 64;
            c.conntrack.external_max_entries = 64;
        })
        .build()
}

/// Node 1 at `prio`, started at `START`.
pub fn engine(prio: u8, keyed: bool) -> Engine {
    engine_node(1, prio, keyed)
}

/// Node `node` (its peer in seeds is node 2, with the same MACs).
pub fn engine_node(node: u16, prio: u8, keyed: bool) -> Engine {
    build(&config(node, prio, keyed))
}

/// An engine for `cfg` (one of the configs above), started at `START`.
pub fn build(cfg: &Config) -> Engine {
    let macs: Vec<[u8; 6]> = (0..cfg.interfaces.len()).map(mac).collect();
    match Engine::new(cfg, &macs, START) {
        Ok(e) => e,
        Err(e) => panic!("the fuzz gateway config is refused: {e:?}"),
    }
}

/// Timer wake-ups one input may run one by one (`run_until`); past them,
/// every time step is a single late `handle_timeout`, as a daemon that was
/// kept off the CPU would make. Without a bound, a few long steps through
/// 10 ms BFD or 100 ms VRRP timers cost thousands of wake-ups, and the
/// fuzzer spends its time on timers instead of inputs.
pub const WAKEUPS: u32 = 32;

thread_local! {
    /// The queue the harnesses send into, allocated once per thread: 256
    /// frames of 1518 bytes, zeroed, cost more than most inputs.
    static TX: RefCell<TxQueue> = RefCell::new(TxQueue::with_capacity(256));
    /// Wake-ups left to the input being run (`None`: not in `with_tx`,
    /// e.g. the seed builder: no bound).
    static LEFT: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Run one input's work `f` with the thread's transmit queue, emptied
/// first, and a budget of `WAKEUPS` timer wake-ups.
pub fn with_tx<R>(f: impl FnOnce(&mut TxQueue) -> R) -> R {
    TX.with(|t| {
        let mut tx = t.borrow_mut();
        tx.clear();
        tx.overflow = 0;
        LEFT.set(Some(WAKEUPS));
        let r = f(&mut tx);
        LEFT.set(None);
        r
    })
}

/// Take one wake-up from the budget; false when it is spent.
fn wake_up() -> bool {
    match LEFT.get() {
        Some(0) => false,
        Some(n) => {
            LEFT.set(Some(n - 1));
            true
        }
        None => true,
    }
}

/// The end of a daemon loop turn: sync changes go out; everything the
/// engine queued (for the ports and the host TAPs) is taken (and checked
/// for size) and dropped.
pub fn drain(e: &mut Engine, tx: &mut TxQueue, now: Instant, buf: &mut [u8]) {
    e.end_of_turn(now, tx);
    for (port, f) in tx.iter() {
        assert!(
            f.len() <= MAX_FRAME,
            "a {}-byte frame queued on port {port}",
            f.len()
        );
    }
    tx.clear();
    for (port, f) in e.host_frames() {
        assert!(
            f.len() <= MAX_FRAME,
            "a {}-byte frame queued for host TAP {port}",
            f.len()
        );
    }
    e.clear_host_frames();
    while e.poll_event().is_some() {}
    while let Some(n) = e.poll_sync_transmit(buf) {
        assert!(n <= buf.len());
    }
    while e.poll_bfd_transmit(now, buf).is_some() {}
}

/// Run timers from `*now` up to `until` (bounded: at most 10k wake-ups,
/// and the input's budget, see `WAKEUPS`), then once at `until`.
pub fn run_until(e: &mut Engine, tx: &mut TxQueue, now: &mut Instant, until: Instant) {
    let mut buf = [0u8; 2048];
    // The deadline is asked once per wake-up: after one, it is both checked
    // and the next wake-up (nothing changes in between).
    let mut deadline = e.poll_timeout();
    for _ in 0..10_000 {
        let next = match deadline {
            Some(t) if t <= until && wake_up() => t.max(*now),
            _ => break,
        };
        *now = next;
        e.handle_timeout(*now, tx);
        drain(e, tx, *now, &mut buf);
        // A deadline that does not move once its timers ran and everything
        // due was sent would spin the daemon's poll loop.
        deadline = e.poll_timeout();
        if let Some(t) = deadline {
            assert!(
                t > *now,
                "deadline {t:?} still due after handle_timeout({now:?})"
            );
        }
    }
    *now = until.max(*now);
    e.handle_timeout(*now, tx);
    drain(e, tx, *now, &mut buf);
}

/// `run_until` `now + d`.
pub fn advance(e: &mut Engine, tx: &mut TxQueue, now: &mut Instant, d: Duration) {
    let until = *now + d;
    run_until(e, tx, now, until);
}

/// Finish IPv4 header and L4 checksums of an Ethernet frame, so mutated
/// frames get past checksum checks; anything that is not IPv4 is left.
pub fn fix_checksums(frame: &mut [u8]) {
    if frame.get(12..14) == Some(&[8, 0]) {
        if let Some(ip) = frame.get_mut(14..) {
            let _ = fill_checksums(ip);
        }
    }
}
