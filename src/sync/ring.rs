//! The sender's resend ring and transmit queue.
//!
//! Owns: the bytes of the most recent sealed frames (a circular byte
//! buffer with an index of consecutive sequence numbers, so a NACK is
//! answered by copying exact bytes: same sequence number, same MAC), and
//! the bounded queue of sequence numbers waiting for `poll_transmit`.
//! Never: builds frames, decides what to resend, allocates after `new`.

/// Where one frame sits in the byte buffer.
#[derive(Copy, Clone, Debug, Default)]
struct Entry {
    seq: u32,
    off: u32,
    len: u32,
}

/// Recent frames by sequence number, oldest evicted first.
pub struct ResendRing {
    /// Allocated for `size` bytes in `new`; its length is the furthest byte
    /// ever written (it grows within the allocation, never reallocating),
    /// so a copy of the ring copies only bytes that were used.
    buf: Vec<u8>,
    size: usize,
    entries: Box<[Entry]>,
    /// Index of the oldest entry in `entries`.
    head: usize,
    len: usize,
    /// Next byte offset to write at.
    write_at: usize,
}

fn overlaps(e: &Entry, from: usize, to: usize) -> bool {
    let (a, b) = (e.off as usize, e.off as usize + e.len as usize);
    a < to && from < b
}

impl Clone for ResendRing {
    fn clone(&self) -> ResendRing {
        let mut buf = Vec::with_capacity(self.size);
        buf.extend_from_slice(&self.buf);
        ResendRing {
            buf,
            size: self.size,
            entries: self.entries.clone(),
            head: self.head,
            len: self.len,
            write_at: self.write_at,
        }
    }
}

impl ResendRing {
    /// Room for `bytes` of frames and at most `frames` of them.
    pub fn new(bytes: usize, frames: usize) -> ResendRing {
        ResendRing {
            buf: Vec::with_capacity(bytes),
            size: bytes,
            entries: vec![Entry::default(); frames.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
            write_at: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn entry(&self, i: usize) -> Option<&Entry> {
        self.entries.get((self.head + i) % self.entries.len())
    }

    /// Sequence numbers held: oldest..=newest.
    pub fn range(&self) -> Option<(u32, u32)> {
        let first = self.entry(0)?;
        let last = self.entry(self.len.checked_sub(1)?)?;
        (self.len > 0).then_some((first.seq, last.seq))
    }

    fn pop_oldest_while(&mut self, f: impl Fn(&Entry) -> bool) {
        while self.len > 0 {
            match self.entry(0) {
                Some(e) if f(e) => {
                    self.head = (self.head + 1) % self.entries.len();
                    self.len -= 1;
                }
                _ => break,
            }
        }
    }

    /// Store frame `seq` (one more than the newest held, wrapping, or after
    /// `clear`; anything else clears the ring first).
    /// Returns false if the frame is larger than the whole ring.
    pub fn push(&mut self, seq: u32, frame: &[u8]) -> bool {
        let n = frame.len();
        if n > self.size {
            return false;
        }
        if self
            .range()
            .is_some_and(|(_, last)| last.wrapping_add(1) != seq)
        {
            self.clear();
        }
        let mut at = self.write_at;
        if at + n > self.size {
            // Skip the tail: everything still there is the oldest data.
            let tail = at;
            self.pop_oldest_while(|e| e.off as usize >= tail);
            at = 0;
        }
        self.pop_oldest_while(|e| overlaps(e, at, at + n));
        if self.buf.len() < at + n {
            // Within the allocation made by `new`: no realloc.
            self.buf.resize(at + n, 0);
        }
        if self.len == self.entries.len() {
            self.head = (self.head + 1) % self.entries.len();
            self.len -= 1;
        }
        if let Some(d) = self.buf.get_mut(at..at + n) {
            d.copy_from_slice(frame);
        }
        let slot = (self.head + self.len) % self.entries.len();
        if let Some(e) = self.entries.get_mut(slot) {
            *e = Entry {
                seq,
                off: at as u32,
                len: n as u32,
            };
        }
        self.len += 1;
        self.write_at = at + n;
        true
    }

    /// The bytes of frame `seq`, if still held.
    pub fn get(&self, seq: u32) -> Option<&[u8]> {
        let (first, _) = self.range()?;
        let i = seq.wrapping_sub(first) as usize;
        if i >= self.len {
            return None;
        }
        let e = self.entry(i).filter(|e| e.seq == seq)?;
        self.buf
            .get(e.off as usize..e.off as usize + e.len as usize)
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.write_at = 0;
    }
}

/// A bounded FIFO of sequence numbers to transmit.
#[derive(Clone)]
pub struct TxQueue {
    q: Box<[u32]>,
    head: usize,
    len: usize,
}

impl TxQueue {
    pub fn new(cap: usize) -> TxQueue {
        TxQueue {
            q: vec![0; cap.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Queue `seq`; false when full (the caller counts it).
    pub fn push(&mut self, seq: u32) -> bool {
        if self.len == self.q.len() {
            return false;
        }
        let at = (self.head + self.len) % self.q.len();
        if let Some(x) = self.q.get_mut(at) {
            *x = seq;
        }
        self.len += 1;
        true
    }
    pub fn pop(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let v = self.q.get(self.head).copied();
        self.head = (self.head + 1) % self.q.len();
        self.len -= 1;
        v
    }
    /// Whether `seq` is queued (a resend that is already waiting).
    pub fn contains(&self, seq: u32) -> bool {
        (0..self.len).any(|i| self.q.get((self.head + i) % self.q.len()) == Some(&seq))
    }
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u32, len: usize) -> Vec<u8> {
        (0..len).map(|i| (seq as usize * 31 + i) as u8).collect()
    }

    #[test]
    fn keeps_the_most_recent_frames_that_fit() {
        let mut r = ResendRing::new(1000, 64);
        let mut x: u32 = 7;
        let mut held: std::collections::VecDeque<(u32, usize)> = Default::default();
        for seq in 1..5000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = 20 + (x >> 16) as usize % 300;
            assert!(r.push(seq, &frame(seq, len)));
            held.push_back((seq, len));
            // Every frame the ring reports is byte-exact; the ring holds a
            // suffix of the history.
            let (first, last) = r.range().unwrap();
            assert_eq!(last, seq);
            for s in first..=last {
                let (_, l) = held.iter().find(|(q, _)| *q == s).copied().unwrap();
                assert_eq!(r.get(s), Some(&frame(s, l)[..]), "seq {s}");
            }
            assert_eq!(r.get(first.wrapping_sub(1)), None);
            assert_eq!(r.get(last + 1), None);
            while held.front().is_some_and(|(q, _)| *q < first) {
                held.pop_front();
            }
            let bytes: usize = held.iter().map(|(_, l)| l).sum();
            assert!(bytes <= 1000);
        }
    }

    /// `Clone` copies only the bytes written so far: a copy taken at any
    /// point (empty, partly filled, wrapped) holds the same frames and
    /// behaves the same from there on.
    #[test]
    fn a_copy_holds_the_same_frames_and_goes_on_alike() {
        let mut r = ResendRing::new(1000, 16);
        let mut c = r.clone();
        for seq in 1..400u32 {
            let len = 20 + (seq as usize * 37) % 200;
            assert_eq!(r.push(seq, &frame(seq, len)), c.push(seq, &frame(seq, len)));
            assert_eq!(r.range(), c.range());
            let (first, last) = r.range().unwrap();
            for s in first..=last {
                assert_eq!(r.get(s), c.get(s), "seq {s}");
                assert!(c.get(s).is_some());
            }
            if seq % 7 == 0 {
                c = r.clone();
            }
        }
    }

    #[test]
    fn frame_count_limit_and_oversize() {
        let mut r = ResendRing::new(10_000, 4);
        for seq in 10..20 {
            r.push(seq, &[1, 2, 3]);
        }
        assert_eq!(r.range(), Some((16, 19)));
        assert!(!r.push(20, &[0u8; 10_001]));
        r.push(100, &[9]);
        assert_eq!(r.range(), Some((100, 100)), "non-consecutive push restarts");
    }

    #[test]
    fn sequence_numbers_may_wrap() {
        let mut r = ResendRing::new(10_000, 16);
        r.push(u32::MAX - 1, &[2]);
        r.push(u32::MAX, &[3]);
        r.push(0, &[4]);
        assert_eq!(r.range(), Some((u32::MAX - 1, 0)));
        assert_eq!(r.get(u32::MAX), Some(&[3u8][..]));
        assert_eq!(r.get(0), Some(&[4u8][..]));
        assert_eq!(r.get(1), None);
    }

    #[test]
    fn tx_queue_is_bounded_fifo() {
        let mut q = TxQueue::new(3);
        assert!(q.push(1) && q.push(2) && q.push(3));
        assert!(!q.push(4));
        assert!(q.contains(2) && !q.contains(4));
        assert_eq!(q.pop(), Some(1));
        assert!(q.push(5));
        assert_eq!(
            (q.pop(), q.pop(), q.pop(), q.pop()),
            (Some(2), Some(3), Some(5), None)
        );
    }
}
