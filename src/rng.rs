//! A seeded pseudo-random generator for the sans-IO core (BFD jitter) and
//! the simulator: xorshift64* (Vigna), small, fast, deterministic.
//!
//! Owns: the generator only. Never: reads entropy (the caller seeds it) and
//! never serves anything secret (keys, hash seeds an attacker must not guess).

/// xorshift64*: 64 bits of state, one multiply per number.
#[derive(Clone, Debug)]
pub struct XorShift64Star(u64);

impl XorShift64Star {
    /// Seed 0 (xorshift's fixed point) is taken as 1.
    pub fn new(seed: u64) -> XorShift64Star {
        XorShift64Star(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// Uniform in [0, n) (n = 0 is taken as 1).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_never_stuck() {
        let mut a = XorShift64Star::new(0);
        let mut b = XorShift64Star::new(1);
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        assert!(xs.iter().all(|x| *x == b.next_u64()));
        assert!(xs.iter().all(|x| *x != 0));
        let mut d = xs.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), 100);
    }
}
