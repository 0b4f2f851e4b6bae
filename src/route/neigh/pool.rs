//! Frames waiting for address resolution: a fixed pool of `MAX_FRAME`
//! buffers allocated once, linked into FIFO chains — one per unresolved
//! neighbour, plus one "ready" chain of frames whose neighbour was resolved
//! and that wait for the caller to send them.
//!
//! Owns the buffers and their order only. Never decides what to drop (the
//! resolver does), never allocates after `new`, never panics: a chain is
//! followed through `get`, and a bad link ends it.

use crate::engine::{MAX_FRAME, PortId};
use crate::wire::EthernetAddress;

const NIL: u16 = u16::MAX;

/// The most buffers a pool holds (slot numbers are u16, `NIL` excluded).
pub const MAX_SLOTS: usize = NIL as usize;

/// A FIFO of pool slots; empty by default.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    head: u16,
    tail: u16,
    len: u16,
}

impl Default for Chain {
    fn default() -> Chain {
        Chain {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

impl Chain {
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[derive(Clone)]
struct Slot {
    next: u16,
    len: u16,
    /// Set when the slot moves to the ready chain.
    port: PortId,
    mac: EthernetAddress,
    buf: [u8; MAX_FRAME],
}

#[derive(Clone)]
pub struct Pool {
    slots: Box<[Slot]>,
    free: Chain,
    ready: Chain,
}

impl Pool {
    /// `n` buffers (at most `MAX_SLOTS`), all free.
    pub fn new(n: usize) -> Pool {
        let n = n.min(MAX_SLOTS);
        let mut pool = Pool {
            slots: (0..n)
                .map(|_| Slot {
                    next: NIL,
                    len: 0,
                    port: 0,
                    mac: EthernetAddress::ZERO,
                    buf: [0; MAX_FRAME],
                })
                .collect(),
            free: Chain::default(),
            ready: Chain::default(),
        };
        for i in 0..n {
            if let Ok(i) = u16::try_from(i) {
                pool.append(Which::Free, i);
            }
        }
        pool
    }

    /// Free buffers left.
    pub fn free(&self) -> usize {
        self.free.len()
    }

    /// Frames resolved and not yet handed out by `drain_ready`.
    pub fn ready(&self) -> usize {
        self.ready.len()
    }

    fn next_of(&self, i: u16) -> u16 {
        self.slots.get(usize::from(i)).map_or(NIL, |s| s.next)
    }

    fn set_next(&mut self, i: u16, next: u16) {
        if let Some(s) = self.slots.get_mut(usize::from(i)) {
            s.next = next;
        }
    }

    fn chain(&mut self, which: Which) -> &mut Chain {
        match which {
            Which::Free => &mut self.free,
            Which::Ready => &mut self.ready,
        }
    }

    /// Take the first slot off `chain` (None when empty).
    fn pop(&mut self, chain: &mut Chain) -> Option<u16> {
        if chain.head == NIL {
            return None;
        }
        let i = chain.head;
        chain.head = self.next_of(i);
        chain.len = chain.len.saturating_sub(1);
        if chain.head == NIL {
            chain.tail = NIL;
        }
        self.set_next(i, NIL);
        Some(i)
    }

    fn push(&mut self, chain: &mut Chain, i: u16) {
        self.set_next(i, NIL);
        if chain.tail == NIL {
            chain.head = i;
        } else {
            self.set_next(chain.tail, i);
        }
        chain.tail = i;
        chain.len = chain.len.saturating_add(1);
    }

    fn append(&mut self, which: Which, i: u16) {
        let mut c = *self.chain(which);
        self.push(&mut c, i);
        *self.chain(which) = c;
    }

    fn take(&mut self, which: Which) -> Option<u16> {
        let mut c = *self.chain(which);
        let i = self.pop(&mut c);
        *self.chain(which) = c;
        i
    }

    /// Copy `frame` into a free buffer at the end of `chain`. False when
    /// no buffer is free or the frame is longer than `MAX_FRAME`.
    pub fn enqueue(&mut self, chain: &mut Chain, frame: &[u8]) -> bool {
        let Ok(len) = u16::try_from(frame.len()) else {
            return false;
        };
        if frame.len() > MAX_FRAME || self.free.is_empty() {
            return false;
        }
        let Some(i) = self.take(Which::Free) else {
            return false;
        };
        if let Some(s) = self.slots.get_mut(usize::from(i))
            && let Some(dst) = s.buf.get_mut(..frame.len())
        {
            dst.copy_from_slice(frame);
            s.len = len;
        }
        self.push(chain, i);
        true
    }

    /// Free the oldest frame of `chain`; false when it was empty.
    pub fn drop_oldest(&mut self, chain: &mut Chain) -> bool {
        match self.pop(chain) {
            Some(i) => {
                self.append(Which::Free, i);
                true
            }
            None => false,
        }
    }

    /// Free every frame of `chain`; returns how many there were.
    pub fn drop_all(&mut self, chain: &mut Chain) -> usize {
        let mut n = 0;
        while self.drop_oldest(chain) {
            n += 1;
        }
        n
    }

    /// Move every frame of `chain`, in order, to the end of the ready
    /// chain, to be sent out of `port` to `mac`.
    pub fn make_ready(&mut self, chain: &mut Chain, port: PortId, mac: EthernetAddress) {
        while let Some(i) = self.pop(chain) {
            if let Some(s) = self.slots.get_mut(usize::from(i)) {
                s.port = port;
                s.mac = mac;
            }
            self.append(Which::Ready, i);
        }
    }

    /// Frames whose neighbour was resolved wait in `ready`.
    #[inline]
    pub fn has_ready(&self) -> bool {
        self.ready.head != NIL
    }

    /// Hand ready frames to `send(port, mac, frame)` oldest first; a frame
    /// `send` refuses (false) stays first in line and draining stops.
    /// Returns how many frames `send` took.
    pub fn drain_ready(
        &mut self,
        mut send: impl FnMut(PortId, EthernetAddress, &mut [u8]) -> bool,
    ) -> usize {
        let mut n = 0;
        while self.ready.head != NIL {
            let i = self.ready.head;
            let Some(s) = self.slots.get_mut(usize::from(i)) else {
                // A bad link cannot happen; end the chain rather than loop.
                self.ready = Chain::default();
                break;
            };
            let frame = s.buf.get_mut(..usize::from(s.len)).unwrap_or_default();
            if !send(s.port, s.mac, frame) {
                break;
            }
            if let Some(i) = self.take(Which::Ready) {
                self.append(Which::Free, i);
            }
            n += 1;
        }
        n
    }
}

#[derive(Copy, Clone)]
enum Which {
    Free,
    Ready,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 7]);

    fn drain(p: &mut Pool) -> Vec<(PortId, Vec<u8>)> {
        let mut out = Vec::new();
        p.drain_ready(|port, mac, f| {
            assert_eq!(mac, MAC);
            out.push((port, f.to_vec()));
            true
        });
        out
    }

    #[test]
    fn chains_keep_order_and_return_buffers() {
        let mut p = Pool::new(4);
        let (mut a, mut b) = (Chain::default(), Chain::default());
        assert!(p.enqueue(&mut a, b"a1"));
        assert!(p.enqueue(&mut b, b"b1"));
        assert!(p.enqueue(&mut a, b"a2"));
        assert!(p.enqueue(&mut a, b"a3"));
        assert!(!p.enqueue(&mut b, b"b2"), "pool of 4 is full");
        assert_eq!((a.len(), b.len(), p.free()), (3, 1, 0));
        assert!(p.drop_oldest(&mut a));
        assert!(p.enqueue(&mut b, b"b2"));
        p.make_ready(&mut b, 1, MAC);
        p.make_ready(&mut a, 0, MAC);
        assert!(a.is_empty() && b.is_empty());
        assert_eq!(p.ready(), 4);
        let got = drain(&mut p);
        let want: Vec<(PortId, Vec<u8>)> = [(1, "b1"), (1, "b2"), (0, "a2"), (0, "a3")]
            .iter()
            .map(|(port, f)| (*port, f.as_bytes().to_vec()))
            .collect();
        assert_eq!(got, want);
        assert_eq!((p.free(), p.ready()), (4, 0));
    }

    #[test]
    fn refused_frame_stays_first() {
        let mut p = Pool::new(3);
        let mut a = Chain::default();
        for f in [b"1", b"2", b"3"] {
            assert!(p.enqueue(&mut a, f));
        }
        p.make_ready(&mut a, 0, MAC);
        let mut seen = Vec::new();
        let n = p.drain_ready(|_, _, f| {
            seen.push(f[0]);
            seen.len() < 2
        });
        assert_eq!((n, seen, p.ready()), (1, vec![b'1', b'2'], 2));
        assert_eq!(drain(&mut p).len(), 2);
        assert_eq!(p.free(), 3);
    }

    #[test]
    fn oversize_and_drop_all() {
        let mut p = Pool::new(2);
        let mut a = Chain::default();
        assert!(!p.enqueue(&mut a, &[0; MAX_FRAME + 1]));
        assert!(p.enqueue(&mut a, &[9; MAX_FRAME]));
        assert!(p.enqueue(&mut a, &[]));
        assert_eq!(p.drop_all(&mut a), 2);
        assert_eq!((p.free(), a.len()), (2, 0));
        assert!(!p.drop_oldest(&mut a));
        assert_eq!(Pool::new(0).free(), 0);
    }
}
