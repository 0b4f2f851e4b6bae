//! Keyed hashing for tables and allocators that outsiders can feed.
//!
//! Owns: SipHash-2-4 (Aumasson & Bernstein) with an explicit 128-bit key,
//! and a per-process random key. With the key secret, nobody outside can
//! aim collisions at one bucket or predict an allocation (DESIGN "keyed
//! hash"); with a fixed key the same input hashes the same on every router
//! (what NAT address selection wants). Never: allocates, touches a clock or
//! a file (the random key comes from std's per-process `RandomState`).

use std::hash::{BuildHasher, Hasher};

/// A SipHash key (k0, k1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SipKey(pub [u64; 2]);

impl SipKey {
    /// A key drawn from std's per-process random seed (the OS RNG).
    pub fn random() -> SipKey {
        let state = std::collections::hash_map::RandomState::new();
        let word = |salt: u64| {
            let mut h = state.build_hasher();
            h.write_u64(salt);
            h.finish()
        };
        SipKey([word(0x6b30), word(0x6b31)])
    }

    /// SipHash-2-4 of `data` (64-bit output, the reference algorithm).
    pub fn hash(&self, data: &[u8]) -> u64 {
        let [k0, k1] = self.0;
        let mut v = [
            k0 ^ 0x736f_6d65_7073_6575,
            k1 ^ 0x646f_7261_6e64_6f6d,
            k0 ^ 0x6c79_6765_6e65_7261,
            k1 ^ 0x7465_6462_7974_6573,
        ];
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            compress(&mut v, u64::from_le_bytes(w), 2);
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        if let Some(dst) = last.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        last[7] = data.len() as u8;
        compress(&mut v, u64::from_le_bytes(last), 2);
        v[2] ^= 0xff;
        for _ in 0..4 {
            round(&mut v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

fn compress(v: &mut [u64; 4], m: u64, rounds: usize) {
    v[3] ^= m;
    for _ in 0..rounds {
        round(v);
    }
    v[0] ^= m;
}

fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference key 00 01 .. 0f of the SipHash paper.
    const PAPER_KEY: SipKey = SipKey([0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);

    #[test]
    fn reference_vectors() {
        let msg: Vec<u8> = (0u8..16).collect();
        // Appendix A of the paper (15 bytes) and the reference implementation's table.
        for (len, want) in [
            (0, 0x726f_db47_dd0e_0e31u64),
            (1, 0x74f8_39c5_93dc_67fd),
            (8, 0x93f5_f579_9a93_2462),
            (15, 0xa129_ca61_49be_45e5),
        ] {
            assert_eq!(PAPER_KEY.hash(&msg[..len]), want, "length {len}");
        }
    }

    #[test]
    fn key_changes_the_hash_and_random_keys_differ() {
        let data = b"192.168.10.31";
        assert_ne!(PAPER_KEY.hash(data), SipKey([0, 0]).hash(data));
        assert_ne!(SipKey::random(), SipKey::random());
    }
}
