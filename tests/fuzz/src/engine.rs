//! Target `engine`: whole Ethernet frames on the LAN and WAN ports of a
//! master gateway without sync (the `sync` target has it): ARP, IPv4,
//! TCP/UDP/ICMP, fragments, VRRP, SNAT/DNAT, the firewall, ICMP errors and
//! their translation, interleaved with time steps (timers, conntrack
//! expiry), link changes and MTU changes; and frames the router's own
//! services write into the host TAPs (the host path, `engine::host`).
//!
//! Input: a sequence of operations, each an op byte and its arguments;
//! `port` is `(op >> 3) % 3` (0 LAN, 1 WAN, 2 no such port):
//! * `op & 7` in 0..=3: a frame on `port`, u16 length then bytes (at most
//!   1518); checksums are filled in unless `op & 0x40`; with `op & 0x80`
//!   the frame comes from `port`'s host TAP instead of the wire.
//! * 4: u8 `n`: run timers for (n + 1) × 10 ms.
//! * 5: u8 `n`: jump (n + 1) × 30 s ahead (one late `handle_timeout`).
//! * 6: link of `port` down (`op & 0x40`) or up.
//! * 7: u16 MTU of `port`.

use super::gateway::{self, PORTS};
use super::input::{Reader, Writer};
use hagw::engine::{Engine, MAX_FRAME, TxQueue, Verdict};
use hagw::time::{Duration, Instant};

/// A master gateway at `now` (its groups won the election alone).
pub fn master() -> (Engine, TxQueue, Instant) {
    master_of(gateway::build(&gateway::plain_config()))
}

/// `e` with both host TAPs open, after running alone for 5 s.
pub fn master_of(mut e: Engine) -> (Engine, TxQueue, Instant) {
    e.set_host_tap(0, true);
    e.set_host_tap(1, true);
    let mut tx = TxQueue::with_capacity(256);
    let mut now = gateway::START;
    gateway::advance(&mut e, &mut tx, &mut now, Duration::from_secs(5));
    (e, tx, now)
}

/// Hand one frame to the engine (checksums filled in when `fix`) and check
/// what comes back.
pub fn frame(e: &mut Engine, tx: &mut TxQueue, now: Instant, port: usize, bytes: &[u8], fix: bool) {
    let mut buf = [0u8; MAX_FRAME];
    let Some(f) = copy(&mut buf, bytes, fix) else {
        return;
    };
    let len = f.len();
    match e.handle_frame(now, port, f, tx) {
        Verdict::Forward(p) => assert!(p < PORTS && f.len() == len),
        Verdict::Consumed => {}
    }
}

/// Hand one frame from `port`'s host TAP to the engine.
pub fn host_frame(
    e: &mut Engine,
    tx: &mut TxQueue,
    now: Instant,
    port: usize,
    bytes: &[u8],
    fix: bool,
) {
    let mut buf = [0u8; MAX_FRAME];
    if let Some(f) = copy(&mut buf, bytes, fix) {
        e.handle_host_frame(now, port, f, tx);
    }
}

/// `bytes` in `buf`, checksums filled in when `fix`.
fn copy<'a>(buf: &'a mut [u8], bytes: &[u8], fix: bool) -> Option<&'a mut [u8]> {
    let f = buf.get_mut(..bytes.len())?;
    f.copy_from_slice(bytes);
    if fix {
        gateway::fix_checksums(f);
    }
    Some(f)
}

thread_local! {
    /// The master every input starts from, built (and run for 5 s) once
    /// per thread; each input gets its own copy, so inputs stay
    /// independent and replay the same.
    static MASTER: (Engine, Instant) = {
        let (e, _, now) = master();
        (e, now)
    };
}

pub fn run(data: &[u8]) {
    let (e, now) = MASTER.with(|(e, now)| (e.clone(), *now));
    gateway::with_tx(|tx| run_on(e, tx, now, data));
}

fn run_on(mut e: Engine, tx: &mut TxQueue, mut now: Instant, data: &[u8]) {
    let mut buf = [0u8; 2048];
    let mut fed = [0u64; PORTS];
    let mut r = Reader::new(data);
    while !r.is_empty() {
        let op = r.u8();
        let port = usize::from(op >> 3) % PORTS;
        match op & 7 {
            0..=3 => {
                let len = usize::from(r.u16()) % (MAX_FRAME + 1);
                let bytes = r.bytes(len);
                if op & 0x80 != 0 {
                    host_frame(&mut e, tx, now, port, bytes, op & 0x40 == 0);
                } else {
                    frame(&mut e, tx, now, port, bytes, op & 0x40 == 0);
                    if let Some(n) = fed.get_mut(port) {
                        *n += 1;
                    }
                }
            }
            4 => {
                let d = Duration::from_millis((u64::from(r.u8()) + 1) * 10);
                gateway::advance(&mut e, tx, &mut now, d);
            }
            5 => {
                now = now + Duration::from_secs((u64::from(r.u8()) + 1) * 30);
                e.handle_timeout(now, tx);
            }
            6 => e.set_link(now, port, op & 0x40 == 0, tx),
            _ => e.set_mtu(port, r.u16()),
        }
        gateway::drain(&mut e, tx, now, &mut buf);
    }
    let snap = e.snapshot(now);
    for (p, n) in snap.ports.iter().zip(fed) {
        assert_eq!(p.rx_frames, n, "every frame is counted on its port");
    }
}

/// Seed encoders.
pub fn op_frame(w: &mut Writer, port: usize, bytes: &[u8]) {
    w.u8(port as u8 % 3 * 8).blob(bytes);
}
pub fn op_host_frame(w: &mut Writer, port: usize, bytes: &[u8]) {
    w.u8(0x80 | (port as u8 % 3 * 8)).blob(bytes);
}
pub fn op_step(w: &mut Writer, tens_of_ms: u8) {
    w.u8(4).u8(tens_of_ms);
}
pub fn op_jump(w: &mut Writer, halves_of_minutes: u8) {
    w.u8(5).u8(halves_of_minutes);
}
