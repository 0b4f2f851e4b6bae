//! CLOCK_MONOTONIC → `crate::time::Instant`.
//!
//! Owns: reading the one clock the daemon uses. Never: wall-clock time
//! (which jumps), never hands raw timespecs to the engine.

use crate::time::Instant;

/// The current CLOCK_MONOTONIC time as an engine `Instant`.
pub fn now() -> Instant {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        // CLOCK_MONOTONIC cannot fail on Linux; keep time from going backwards anyway.
        return Instant::ZERO;
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    Instant::from_micros(secs.saturating_mul(1_000_000).saturating_add(nanos / 1000))
}

/// Milliseconds from `now` until `deadline`, rounded up, for poll(2);
/// 0 if already due, capped at `cap_ms`.
pub fn poll_ms(now: Instant, deadline: Instant, cap_ms: i32) -> i32 {
    let us = deadline.as_micros().saturating_sub(now.as_micros());
    let ms = us.div_ceil(1000);
    i32::try_from(ms).unwrap_or(i32::MAX).min(cap_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_rounding() {
        let a = now();
        let b = now();
        assert!(b >= a);
        assert!(a > Instant::ZERO);
        let t = Instant::from_millis(1000);
        assert_eq!(poll_ms(t, Instant::from_micros(1_000_001), 500), 1);
        assert_eq!(poll_ms(t, Instant::from_millis(999), 500), 0);
        assert_eq!(poll_ms(t, Instant::from_millis(5000), 500), 500);
        assert_eq!(poll_ms(t, Instant::from_millis(1010), 500), 10);
    }
}
