//! Virtual-clock-friendly time for the sans-IO core.
//!
//! The core never reads a clock: every entry point takes `now: Instant`.
//! The daemon builds `Instant`s from CLOCK_MONOTONIC, the simulator from its
//! virtual clock. Resolution is one microsecond; arithmetic saturates.

use core::ops::{Add, Sub};
pub use core::time::Duration;

/// A point on a monotonic timeline, in microseconds since an arbitrary epoch.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    pub const fn from_micros(us: u64) -> Instant {
        Instant(us)
    }
    pub const fn from_millis(ms: u64) -> Instant {
        Instant(ms.saturating_mul(1000))
    }
    pub const fn from_secs(s: u64) -> Instant {
        Instant(s.saturating_mul(1_000_000))
    }
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    pub const fn as_millis(self) -> u64 {
        self.0 / 1000
    }
    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

/// Whole microseconds of `d`, saturating at `u64::MAX` (what
/// `u64::try_from(d.as_micros())` gives, without its u128 arithmetic).
pub fn micros(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_micros()))
}

/// Whole milliseconds of `d`, saturating at `u64::MAX` (as `micros`).
pub fn millis(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(d.subsec_millis()))
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(micros(d)))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0.saturating_sub(micros(d)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        self.saturating_since(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_millis_match_u128() {
        for d in [
            Duration::ZERO,
            Duration::from_nanos(999),
            Duration::from_nanos(1_999_999),
            Duration::new(12, 345_678_901),
            Duration::new(u64::MAX / 1000, 999_999_999),
            Duration::new(u64::MAX / 1_000_000 + 1, 0),
            Duration::MAX,
        ] {
            let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
            let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
            assert_eq!((micros(d), millis(d)), (us, ms), "{d:?}");
        }
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_secs(2);
        assert_eq!((t + Duration::from_millis(1500)).as_millis(), 3500);
        assert_eq!(t - Instant::from_secs(5), Duration::ZERO);
        assert_eq!((Instant::ZERO - Duration::from_secs(1)), Instant::ZERO);
        assert_eq!(
            Instant::from_micros(u64::MAX) + Duration::from_secs(1),
            Instant::from_micros(u64::MAX)
        );
    }
}
