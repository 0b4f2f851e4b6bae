//! Target `bfd`: BFD control packets from the peer on the sync link into a
//! backup gateway with fast takeover (the session state machine, its
//! timers and poll sequences, the takeover it triggers), interleaved with
//! time steps and frames (adverts of the master it backs up); every packet
//! that parses re-emits to the same fields.
//!
//! Input: operations, each an op byte and its arguments:
//! * `op & 3` 0: u8 TTL, u8 length (at most 64), bytes: a BFD packet.
//! * 1: u8 `n`: run timers for n + 1 ms.
//! * 2: u8 `n`: run timers for (n + 1) × 100 ms.
//! * 3: a frame: u8 port, u16 length, bytes (checksums filled in).

use super::gateway;
use super::input::{Reader, Writer};
use hagw::bfd::{BfdPacket, BfdRepr};
use hagw::engine::Engine;
use hagw::time::Duration;

/// Parse, emit, parse again: the same fields.
pub fn roundtrip(bytes: &[u8]) {
    let Ok(repr) = BfdRepr::parse(&BfdPacket::new_unchecked(bytes)) else {
        return;
    };
    if repr.auth {
        return; // emit writes no authentication section
    }
    let mut out = [0u8; 24];
    repr.emit(&mut BfdPacket::new_unchecked(&mut out[..]));
    let again = BfdRepr::parse(&BfdPacket::new_unchecked(&out[..]));
    assert_eq!(again, Ok(repr), "re-emitted BFD packet");
}

thread_local! {
    /// The backup every input starts from, built once per thread; each
    /// input runs on its own copy.
    static BACKUP: Engine = gateway::engine(100, false);
}

pub fn run(data: &[u8]) {
    let mut e = BACKUP.with(Engine::clone);
    let mut now = gateway::START;
    let mut buf = [0u8; 2048];
    gateway::with_tx(|tx| {
        let mut r = Reader::new(data);
        while !r.is_empty() {
            let op = r.u8();
            match op & 3 {
                0 => {
                    let ttl = r.u8();
                    let n = usize::from(r.u8()) % 65;
                    let bytes = r.bytes(n);
                    roundtrip(bytes);
                    e.handle_bfd(now, bytes, ttl, tx);
                }
                1 => {
                    let d = Duration::from_millis(u64::from(r.u8()) + 1);
                    gateway::advance(&mut e, tx, &mut now, d);
                }
                2 => {
                    let d = Duration::from_millis((u64::from(r.u8()) + 1) * 100);
                    gateway::advance(&mut e, tx, &mut now, d);
                }
                _ => {
                    let port = usize::from(r.u8()) % gateway::PORTS;
                    let n = usize::from(r.u16()) % (hagw::engine::MAX_FRAME + 1);
                    super::engine::frame(&mut e, tx, now, port, r.bytes(n), true);
                }
            }
            gateway::drain(&mut e, tx, now, &mut buf);
        }
        let _ = e.snapshot(now);
    });
}

/// Seed encoders.
pub fn op_packet(w: &mut Writer, ttl: u8, bytes: &[u8]) {
    w.u8(0).u8(ttl).u8(bytes.len() as u8).raw(bytes);
}
pub fn op_ms(w: &mut Writer, ms: u8) {
    w.u8(1).u8(ms);
}
pub fn op_frame(w: &mut Writer, port: u8, bytes: &[u8]) {
    w.u8(3).u8(port).blob(bytes);
}
