//! The forward path of the driver: drain one port's receive ring into the
//! engine block by block, queue what it forwards (rewritten in place in the
//! ring) on the output port's transmit batch, send every batch with
//! sendmmsg(2) and only then hand the block back to the kernel. A TCP
//! super-frame (segmentation offload at the sender, or GRO) is cut into
//! wire-sized segments (`wire::gso`) in a scratch area first: the engine
//! sees only frames that fit the port's MTU.
//!
//! Owns: the per-wake budget, the driver's per-port receive counters
//! (frames, bytes, truncated, oversize, blocks) and send counters for the
//! forward path. Never: parses a frame (the engine does), keeps a frame
//! past its block's release.

use super::link::Port;
use super::ring::{Sent, TxBatch};
use crate::engine::{Engine, MAX_FRAME, PortId, RxMeta, TxQueue, Verdict};
use crate::time::Instant;
use crate::wire::gso;

/// Ring blocks read from one port per wake before looking at the others
/// (a block is 64 KiB: ~40 full-size frames, ~1000 small ones).
pub const RX_BLOCK_BUDGET: usize = 8;

/// Segments of a super-frame held at once (then sent before going on).
pub const GSO_SCRATCH: usize = 48;

/// The transmit side of the forward path, allocated once: one batch per
/// port and the scratch frames super-frames are cut into.
pub struct Io {
    pub batches: Vec<TxBatch>,
    scratch: Box<[[u8; MAX_FRAME]]>,
}

impl Io {
    pub fn new(ports: usize) -> Io {
        Io {
            batches: (0..ports).map(|_| TxBatch::new()).collect(),
            scratch: vec![[0u8; MAX_FRAME]; GSO_SCRATCH].into_boxed_slice(),
        }
    }
}

/// Hand one frame to the engine and queue it if forwarded.
#[allow(clippy::too_many_arguments)]
fn one(
    engine: &mut Engine,
    ports: &mut [Port],
    batches: &mut [TxBatch],
    p: PortId,
    now: Instant,
    frame: &mut [u8],
    meta: RxMeta,
    tx: &mut TxQueue,
) {
    if let Some(port) = ports.get_mut(p) {
        port.counters.rx_frames += 1;
        port.counters.rx_bytes += frame.len() as u64;
    }
    let Verdict::Forward(out) = engine.handle_frame_meta(now, p, frame, meta, tx) else {
        return;
    };
    if batches.get(out).is_some_and(|b| b.is_full()) {
        flush_port(ports, batches, out);
    }
    match batches.get_mut(out) {
        Some(b) => {
            b.push(frame);
        }
        None => {
            if let Some(port) = ports.get_mut(out) {
                port.counters.tx_errors += 1;
            }
        }
    }
}

fn flush_all(ports: &mut [Port], batches: &mut [TxBatch]) {
    for out in 0..batches.len() {
        flush_port(ports, batches, out);
    }
}

/// Add what a flush sent (or failed to) to `port`'s counters.
pub fn count_sent(port: &mut Port, s: Sent) {
    port.counters.tx_frames += s.frames;
    port.counters.tx_bytes += s.bytes;
    port.counters.tx_errors += s.failed;
    port.counters.tx_batches += s.calls;
}

/// Send the batch of port `out` (dropped and counted without a socket).
pub fn flush_port(ports: &mut [Port], batches: &mut [TxBatch], out: PortId) {
    let (Some(port), Some(b)) = (ports.get_mut(out), batches.get_mut(out)) else {
        return;
    };
    if b.is_empty() {
        return;
    }
    let s = match &port.sock {
        Some(sock) => b.flush(sock.raw_fd()),
        None => {
            let failed = b.len() as u64;
            b.clear();
            Sent {
                failed,
                ..Sent::default()
            }
        }
    };
    count_sent(port, s);
}

/// Drain up to `RX_BLOCK_BUDGET` ring blocks of port `p` into the engine.
/// `flush_tx` sends the engine's transmit queue (answers, ARP): called
/// when it is half full, before a block is released.
#[allow(clippy::too_many_arguments)]
pub fn drain(
    engine: &mut Engine,
    ports: &mut [Port],
    io: &mut Io,
    p: PortId,
    now: Instant,
    tx: &mut TxQueue,
    mut flush_tx: impl FnMut(&mut TxQueue, &mut [Port]),
) {
    let Io { batches, scratch } = io;
    for _ in 0..RX_BLOCK_BUDGET {
        let Some(mut block) = ports
            .get(p)
            .and_then(|port| port.sock.as_ref())
            .and_then(|s| s.ring.take())
        else {
            return;
        };
        let mut frames = 0u64;
        while let Some((info, frame)) = block.next_frame() {
            let Some(port) = ports.get_mut(p) else {
                return;
            };
            if info.outgoing {
                continue; // the host's own transmission (old kernels)
            }
            if frame.len() < info.wire_len {
                port.counters.rx_truncated += 1;
                continue;
            }
            frames += 1;
            let meta = RxMeta {
                csum_partial: info.csum_partial,
            };
            if frame.len() <= MAX_FRAME {
                one(engine, ports, batches, p, now, frame, meta, tx);
            } else {
                let mtu = match port.mtu {
                    0 => 1500,
                    m => usize::from(m),
                };
                let Some(plan) = gso::plan(frame, mtu).filter(|pl| pl.frame_len() <= MAX_FRAME)
                else {
                    port.counters.rx_oversize += 1;
                    continue;
                };
                port.counters.rx_segmented += 1;
                for k in 0..plan.count {
                    let slot = k % GSO_SCRATCH;
                    if slot == 0 && k > 0 {
                        flush_all(ports, batches);
                    }
                    let Some(buf) = scratch.get_mut(slot) else {
                        break;
                    };
                    let Some(n) = gso::segment(frame, &plan, k, buf) else {
                        break;
                    };
                    let seg = &mut buf[..n];
                    one(engine, ports, batches, p, now, seg, RxMeta::default(), tx);
                }
                // The scratch is reused by the next super-frame.
                flush_all(ports, batches);
            }
            if tx.len() >= tx.capacity() / 2 {
                flush_tx(tx, ports);
            }
        }
        // Everything that points into the block leaves before it goes back.
        flush_all(ports, batches);
        let Some(port) = ports.get_mut(p) else {
            return;
        };
        port.counters.rx_batches += 1;
        port.counters.rx_batch_max = port.counters.rx_batch_max.max(frames);
        if let Some(sock) = port.sock.as_mut() {
            sock.ring.release(block);
        }
    }
}
