//! Target `sync`: conntrack-sync datagrams into a starting (backup) gateway
//! that later becomes master and commits what it learned, plus frames and
//! time steps; every message that decodes re-encodes to itself.
//!
//! Input: the first byte's bit 0 selects a keyed (HMAC) sync link; then
//! operations, each an op byte and its arguments:
//! * `op & 7` 0: a raw datagram, u16 length then bytes (CRC and all).
//! * 1, 2: a datagram the harness seals (header, MAC when keyed, CRC) so
//!   the fuzzer reaches the messages: node `1 + (op >> 3) % 4` (1 is this
//!   router: looped), u8 boot, u16 seq (`<< 16` when `op & 0x80`), u8
//!   count, then u16 length and the message bytes.
//! * 3: u8 `n`: run timers for (n + 1) × 10 ms.
//! * 4: u8 `n`: jump (n + 1) s ahead.
//! * 5: a frame: u8 port, u16 length, bytes (checksums filled in).
//! * 6: link of port `(op >> 3) % 3` down (`op & 0x40`) or up.
//! * 7: run timers until the next deadline.

use super::gateway::{self, KEY};
use super::input::{Reader, Writer};
use hagw::engine::{Engine, TxQueue};
use hagw::sync::auth::MacKey;
use hagw::sync::frame::{self, HEADER_LEN, Header, overhead};
use hagw::sync::msg::{Decoded, Messages, encode};
use hagw::time::{Duration, Instant};

/// Largest datagram the harness builds.
pub const MAX_DATAGRAM: usize = 2048;

/// Seal `payload` as node `node`'s frame `seq` of epoch `boot`.
pub fn seal(h: &Header, payload: &[u8], key: Option<&MacKey>) -> Option<Vec<u8>> {
    let end = HEADER_LEN.checked_add(payload.len())?;
    let mut buf = vec![0u8; end + overhead(true)];
    buf.get_mut(HEADER_LEN..end)?.copy_from_slice(payload);
    let n = frame::seal(&mut buf, end, h, key)?;
    buf.truncate(n);
    Some(buf)
}

/// Every message of `payload` that decodes encodes back to itself.
pub fn roundtrip(payload: &[u8], sender: u16) {
    let mut buf = [0u8; 512];
    for m in Messages::new(payload, sender) {
        let Ok(Decoded::Known(m)) = m else { continue };
        let Ok(n) = encode(&m, sender, &mut buf) else {
            continue;
        };
        let again = Messages::new(buf.get(..n).unwrap_or(&[]), sender).next();
        assert_eq!(again, Some(Ok(Decoded::Known(m))), "re-encoded message");
    }
}

fn step(e: &mut Engine, tx: &mut TxQueue, now: &mut Instant, r: &mut Reader, key: Option<&MacKey>) {
    let op = r.u8();
    match op & 7 {
        0 => {
            let n = usize::from(r.u16()) % MAX_DATAGRAM;
            e.handle_sync(*now, r.bytes(n));
        }
        1 | 2 => {
            let node = 1 + u16::from(op >> 3) % 4;
            let boot = u32::from(r.u8());
            let seq = u32::from(r.u16()) << if op & 0x80 != 0 { 16 } else { 0 };
            let count = u16::from(r.u8());
            let n = usize::from(r.u16()) % MAX_DATAGRAM;
            let payload = r.bytes(n);
            roundtrip(payload, node);
            let h = Header {
                node,
                count,
                boot,
                seq,
            };
            if let Some(d) = seal(&h, payload, key) {
                e.handle_sync(*now, &d);
            }
        }
        3 => {
            let d = Duration::from_millis((u64::from(r.u8()) + 1) * 10);
            gateway::advance(e, tx, now, d);
        }
        4 => {
            *now = *now + Duration::from_secs(u64::from(r.u8()) + 1);
            e.handle_timeout(*now, tx);
        }
        5 => {
            let port = usize::from(r.u8()) % gateway::PORTS;
            let n = usize::from(r.u16()) % (hagw::engine::MAX_FRAME + 1);
            super::engine::frame(e, tx, *now, port, r.bytes(n), true);
        }
        6 => e.set_link(*now, usize::from(op >> 3) % 3, op & 0x40 == 0, tx),
        _ => {
            if let Some(t) = e.poll_timeout() {
                gateway::run_until(e, tx, now, t);
            }
        }
    }
}

thread_local! {
    /// The starting gateway (unkeyed, keyed) every input begins from,
    /// built once per thread; each input runs on its own copy.
    static START_STATE: [Engine; 2] = [gateway::engine(100, false), gateway::engine(100, true)];
}

pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let keyed = r.u8() & 1 == 1;
    let key = keyed.then(|| MacKey::new(KEY.as_bytes()));
    let mut e = START_STATE.with(|s| s[usize::from(keyed)].clone());
    let mut now = gateway::START;
    let mut buf = [0u8; MAX_DATAGRAM];
    gateway::with_tx(|tx| {
        while !r.is_empty() {
            step(&mut e, tx, &mut now, &mut r, key.as_ref());
            gateway::drain(&mut e, tx, now, &mut buf);
        }
        // Alone long enough, the router becomes master and commits the
        // peer's sessions into its own table.
        gateway::advance(&mut e, tx, &mut now, Duration::from_secs(5));
    });
    let _ = e.snapshot_with(now, true);
}

/// Seed encoders.
pub fn op_sealed(w: &mut Writer, h: &Header, payload: &[u8]) {
    let node_bits = (h.node.saturating_sub(1) % 4) as u8;
    let (seq, high) = match u16::try_from(h.seq) {
        Ok(s) => (s, 0),
        Err(_) => ((h.seq >> 16) as u16, 0x80),
    };
    w.u8(1 | node_bits << 3 | high)
        .u8(h.boot as u8)
        .u16(seq)
        .u8(h.count as u8)
        .blob(payload);
}
pub fn op_raw(w: &mut Writer, datagram: &[u8]) {
    w.u8(0).blob(datagram);
}
pub fn op_step(w: &mut Writer, tens_of_ms: u8) {
    w.u8(3).u8(tens_of_ms);
}
