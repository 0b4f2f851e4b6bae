//! Per-sender sequence window: anti-replay and gap tracking in one bitmap.
//!
//! Owns: which of a sender's last 64 sequence numbers (within one epoch)
//! arrived, like the IPsec anti-replay window (RFC 4303 §3.4.3): a number
//! above the top is new (the numbers skipped are holes, i.e. lost), a number
//! inside the window fills a hole or is a duplicate, a number below it is
//! too old. A hole that slides out of the window can no longer be filled
//! (its resend would look like a replay): the caller asks for a bulk resync.
//! Never: epochs, timing, NACK rate limits (that is `peer`).
//!
//! Sequence numbers never wrap within an epoch (the sender starts a new
//! epoch before they would), so plain comparisons are right.

/// Window width in sequence numbers.
pub const WIDTH: u32 = 64;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Above the top; `skipped` numbers between the old top and it are new
    /// holes.
    Fresh {
        skipped: u32,
    },
    /// Inside the window, not seen before: fills a hole.
    Fill,
    Duplicate,
    /// Below the window or before the epoch's first accepted frame.
    TooOld,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SeqWindow {
    /// Highest accepted sequence number.
    top: u32,
    /// Bit i set: `top - i` arrived.
    bits: u64,
    /// The first number accepted in this epoch; nothing below is a hole.
    base: u32,
}

impl SeqWindow {
    /// A window whose first accepted frame is `seq`.
    pub fn starting_at(seq: u32) -> SeqWindow {
        SeqWindow {
            top: seq,
            bits: 1,
            base: seq,
        }
    }

    pub fn top(&self) -> u32 {
        self.top
    }

    pub fn check(&self, seq: u32) -> Verdict {
        if seq > self.top {
            return Verdict::Fresh {
                skipped: seq - self.top - 1,
            };
        }
        let back = self.top - seq;
        if back >= WIDTH || seq < self.base {
            Verdict::TooOld
        } else if self.bits & (1u64 << back) != 0 {
            Verdict::Duplicate
        } else {
            Verdict::Fill
        }
    }

    /// Mask of window positions that hold this epoch's numbers.
    fn epoch_mask(&self) -> u64 {
        let span = self.top - self.base; // positions 0..=span are in the epoch
        if span >= WIDTH - 1 {
            u64::MAX
        } else {
            (1u64 << (span + 1)) - 1
        }
    }

    /// Record `seq` (after `check` said `Fresh` or `Fill`). Returns how many
    /// holes became unrecoverable (slid out of the window).
    pub fn accept(&mut self, seq: u32) -> u32 {
        if seq <= self.top {
            let back = self.top - seq;
            if back < WIDTH {
                self.bits |= 1u64 << back;
            }
            return 0;
        }
        let shift = seq - self.top;
        let holes_now = !self.bits & self.epoch_mask();
        let lost_out = if shift >= WIDTH {
            // The whole window leaves, and so do the skipped numbers that
            // never even entered it.
            holes_now.count_ones() + (shift - WIDTH)
        } else {
            let leaving = u64::MAX << (WIDTH - shift);
            (holes_now & leaving).count_ones()
        };
        self.bits = if shift >= WIDTH {
            1
        } else {
            (self.bits << shift) | 1
        };
        self.top = seq;
        lost_out
    }

    /// Number of holes currently in the window.
    pub fn hole_count(&self) -> u32 {
        (!self.bits & self.epoch_mask()).count_ones()
    }

    /// The oldest open hole.
    pub fn oldest_hole(&self) -> Option<u32> {
        let holes = !self.bits & self.epoch_mask();
        (holes != 0).then(|| self.top - (63 - holes.leading_zeros()))
    }

    /// Stop tracking holes below `seq` (they are superseded, e.g. by a bulk
    /// resync that starts at `seq`); numbers below stay refused as too old.
    pub fn forgive_below(&mut self, seq: u32) {
        self.base = self.base.max(seq.min(self.top));
    }

    /// The holes as ascending inclusive ranges; `f` is called per range.
    pub fn for_each_hole_range(&self, mut f: impl FnMut(u32, u32)) {
        let holes = !self.bits & self.epoch_mask();
        let mut run: Option<(u32, u32)> = None;
        // From the oldest position (63) to the newest (1): ascending seqs.
        for back in (1..WIDTH).rev() {
            let seq = self.top.wrapping_sub(back);
            if holes & (1u64 << back) != 0 {
                run = match run {
                    Some((a, _)) => Some((a, seq)),
                    None => Some((seq, seq)),
                };
            } else if let Some((a, b)) = run.take() {
                f(a, b);
            }
        }
        if let Some((a, b)) = run {
            f(a, b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holes(w: &SeqWindow) -> Vec<(u32, u32)> {
        let mut v = Vec::new();
        w.for_each_hole_range(|a, b| v.push((a, b)));
        v
    }

    #[test]
    fn in_order_has_no_holes_and_rejects_replays() {
        let mut w = SeqWindow::starting_at(10);
        for s in 11..200 {
            assert_eq!(w.check(s), Verdict::Fresh { skipped: 0 });
            assert_eq!(w.accept(s), 0);
        }
        assert_eq!(w.check(199), Verdict::Duplicate);
        assert_eq!(w.check(150), Verdict::Duplicate);
        assert_eq!(w.check(135), Verdict::TooOld);
        assert_eq!(w.check(5), Verdict::TooOld);
        assert!(holes(&w).is_empty());
    }

    #[test]
    fn gaps_are_holes_until_filled() {
        let mut w = SeqWindow::starting_at(1);
        assert_eq!(w.check(5), Verdict::Fresh { skipped: 3 });
        w.accept(5);
        w.accept(6);
        w.accept(9);
        assert_eq!(holes(&w), vec![(2, 4), (7, 8)]);
        assert_eq!(w.hole_count(), 5);
        assert_eq!(w.check(3), Verdict::Fill);
        w.accept(3);
        assert_eq!(holes(&w), vec![(2, 2), (4, 4), (7, 8)]);
        assert_eq!(w.check(3), Verdict::Duplicate);
        assert_eq!(w.check(0), Verdict::TooOld, "before the epoch start");
    }

    #[test]
    fn holes_sliding_out_are_reported_once() {
        let mut w = SeqWindow::starting_at(100);
        w.accept(103); // holes 101, 102
        assert_eq!(w.accept(100 + 64), 0); // 101 is now at position 63
        assert_eq!(w.accept(100 + 65), 1); // 101 leaves
        assert_eq!(w.accept(100 + 66), 1); // 102 leaves
        assert_eq!(w.accept(100 + 67), 0);
        assert!(holes(&w).iter().all(|&(a, _)| a > 102));
    }

    #[test]
    fn a_jump_past_the_window_counts_everything_skipped() {
        let mut w = SeqWindow::starting_at(1);
        w.accept(3); // hole 2
        // jump to 3 + 100: skipped 4..=102 (99 numbers); 64 of them stay in
        // the window as holes except the top, the rest and hole 2 are gone.
        let out = w.accept(103);
        assert_eq!(w.hole_count(), 63);
        assert_eq!(out, 1 + (99 - 63));
    }

    #[test]
    fn oldest_hole_and_forgiving() {
        let mut w = SeqWindow::starting_at(1);
        assert_eq!(w.oldest_hole(), None);
        w.accept(3);
        w.accept(6);
        assert_eq!(w.oldest_hole(), Some(2));
        w.forgive_below(4);
        assert_eq!(w.oldest_hole(), Some(4));
        assert_eq!(w.check(2), Verdict::TooOld);
        w.forgive_below(100);
        assert_eq!(w.oldest_hole(), None);
        assert_eq!(w.check(7), Verdict::Fresh { skipped: 0 });
    }

    #[test]
    fn nothing_before_the_base_is_a_hole() {
        let mut w = SeqWindow::starting_at(1000);
        w.accept(1001);
        assert!(holes(&w).is_empty());
        // 1002..=1064 skipped: all still in the window, none lost yet, and
        // the numbers below 1000 never count.
        assert_eq!(w.accept(1065), 0);
        assert_eq!(w.hole_count(), 63);
        assert_eq!(w.oldest_hole(), Some(1002));
    }
}
