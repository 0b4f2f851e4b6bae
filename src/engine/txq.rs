//! The bounded queue of outgoing frames the engine fills and the driver
//! drains (`TxQueue`). Owns the frame buffers: allocated once for the
//! capacity, each slot initialised on first use, copied only while queued.
//! Never: decides what to send or allocates after `with_capacity`.

use super::{MAX_FRAME, PortId};

/// One frame waiting to be sent.
#[derive(Clone)]
pub struct TxFrame {
    pub port: PortId,
    pub len: usize,
    pub buf: [u8; MAX_FRAME],
}

/// A bounded queue of outgoing frames, allocated once; the driver drains it.
/// Slots are initialised on first use (`frames` grows up to `capacity`
/// within its allocation, never reallocating), so a copy of an engine
/// copies only the frames queued, not every empty buffer.
pub struct TxQueue {
    /// The slots used so far; allocated for `capacity` up front.
    frames: Vec<TxFrame>,
    capacity: usize,
    len: usize,
    /// Frames dropped because the queue was full.
    pub overflow: u64,
}

impl Clone for TxQueue {
    /// The queued frames only (the slots past them hold nothing).
    fn clone(&self) -> TxQueue {
        let mut frames = Vec::with_capacity(self.capacity);
        frames.extend_from_slice(&self.frames[..self.len]);
        TxQueue {
            frames,
            capacity: self.capacity,
            len: self.len,
            overflow: self.overflow,
        }
    }
}

impl TxQueue {
    pub fn with_capacity(capacity: usize) -> TxQueue {
        TxQueue {
            frames: Vec::with_capacity(capacity),
            capacity,
            len: 0,
            overflow: 0,
        }
    }

    /// Queue a frame for `port`: `write` fills the buffer and returns the
    /// frame length (0 cancels). Returns false (and counts) when full.
    pub fn push(&mut self, port: PortId, write: impl FnOnce(&mut [u8]) -> usize) -> bool {
        if self.len >= self.capacity {
            self.overflow += 1;
            return false;
        }
        if self.len == self.frames.len() {
            // Within the allocation made by `with_capacity`: no realloc.
            self.frames.push(TxFrame {
                port: 0,
                len: 0,
                buf: [0; MAX_FRAME],
            });
        }
        let Some(slot) = self.frames.get_mut(self.len) else {
            self.overflow += 1;
            return false;
        };
        let n = write(&mut slot.buf[..]).min(MAX_FRAME);
        if n == 0 {
            return false;
        }
        slot.port = port;
        slot.len = n;
        self.len += 1;
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The queued frames in order, as (port, bytes).
    pub fn iter(&self) -> impl Iterator<Item = (PortId, &[u8])> {
        self.frames[..self.len]
            .iter()
            .map(|f| (f.port, &f.buf[..f.len]))
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(q: &mut TxQueue, port: PortId, byte: u8, len: usize) -> bool {
        q.push(port, |b| {
            b[..len].fill(byte);
            len
        })
    }

    /// A copy holds the queued frames (not the slots used before a
    /// `clear`), keeps the capacity, and fills up and overflows alike.
    #[test]
    fn a_copy_holds_the_queued_frames_and_the_capacity() {
        let mut q = TxQueue::with_capacity(4);
        for i in 0..3 {
            assert!(push(&mut q, i, i as u8 + 1, 60 + i));
        }
        q.clear();
        assert!(push(&mut q, 2, 9, 100));
        let mut c = q.clone();
        assert_eq!(c.capacity(), 4);
        assert_eq!(c.iter().collect::<Vec<_>>(), q.iter().collect::<Vec<_>>());
        assert_eq!(c.iter().next(), Some((2, &[9u8; 100][..])));
        for i in 0..3 {
            assert!(push(&mut c, 1, i, 64));
        }
        assert!(!push(&mut c, 1, 7, 64));
        assert_eq!((c.len(), c.overflow, q.len()), (4, 1, 1));
        assert!(!c.push(0, |_| 0), "a zero-length frame is not queued");
    }
}
