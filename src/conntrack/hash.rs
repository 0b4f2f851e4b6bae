//! Keyed hash of a flow tuple for the session index: SipHash-1-3
//! (Aumasson & Bernstein, the PRF Rust's `HashMap` uses) under a 128-bit
//! key the caller supplies (the daemon reads it from the kernel's random
//! source, the simulator passes a fixed one), so nobody outside can aim
//! tuples at one bucket. Owns only the arithmetic; never allocates.

use super::Tuple;

/// SipHash with `C` compression and `D` finalization rounds over `msg`,
/// key as 16 little-endian bytes (k0 = bytes 0..8, k1 = bytes 8..16).
pub fn siphash<const C: usize, const D: usize>(key: &[u8; 16], msg: &[u8]) -> u64 {
    let (k0, k1) = split_key(key);
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut blocks = msg.chunks_exact(8);
    for block in &mut blocks {
        compress::<C>(&mut v, le_word(block));
    }
    // Last block: the 0-7 remaining bytes, message length mod 256 on top.
    compress::<C>(
        &mut v,
        le_word(blocks.remainder()) | (msg.len() as u64) << 56,
    );
    v[2] ^= 0xff;
    for _ in 0..D {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// SipHash-1-3, the variant the session index uses.
pub fn siphash13(key: &[u8; 16], msg: &[u8]) -> u64 {
    siphash::<1, 3>(key, msg)
}

/// The 13 bytes of a tuple in a fixed order (protocol, addresses, ports in
/// network order), hashed with SipHash-1-3.
pub fn hash_tuple(key: &[u8; 16], t: &Tuple) -> u64 {
    hash_tuple_with(&TupleHasher::new(key), t)
}

/// The SipHash initial state for one key, computed once (the session index
/// keeps one; every packet hashes its tuple with it).
#[derive(Copy, Clone, Debug)]
pub struct TupleHasher([u64; 4]);

impl TupleHasher {
    pub fn new(key: &[u8; 16]) -> TupleHasher {
        let (k0, k1) = split_key(key);
        TupleHasher([
            k0 ^ 0x736f_6d65_7073_6575,
            k1 ^ 0x646f_7261_6e64_6f6d,
            k0 ^ 0x6c79_6765_6e65_7261,
            k1 ^ 0x7465_6462_7974_6573,
        ])
    }
}

/// `hash_tuple` with the key's state already computed.
#[inline]
pub fn hash_tuple_with(h: &TupleHasher, t: &Tuple) -> u64 {
    // The two little-endian message words of those 13 bytes, built from
    // the fields directly (same value as `siphash13` over the bytes; a
    // test compares them): bytes 0..8 = proto, src, dst[0..3]; bytes
    // 8..13 = dst[3], sport, dport, and the length 13 in the top byte.
    let src = u64::from(u32::from_le_bytes(t.src.octets()));
    let dst = u64::from(u32::from_le_bytes(t.dst.octets()));
    let sport = u64::from(t.sport.swap_bytes());
    let dport = u64::from(t.dport.swap_bytes());
    let m0 = u64::from(t.proto) | src << 8 | (dst & 0x00ff_ffff) << 40;
    let m1 = dst >> 24 | sport << 8 | dport << 24 | 13 << 56;
    let mut v = h.0;
    compress::<1>(&mut v, m0);
    compress::<1>(&mut v, m1);
    v[2] ^= 0xff;
    for _ in 0..3 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

fn split_key(key: &[u8; 16]) -> (u64, u64) {
    let (a, b) = key.split_at(8);
    (le_word(a), le_word(b))
}

/// Up to 8 bytes as a little-endian word (missing high bytes zero). One
/// load, not a byte loop: the byte-wise fold cost ~56 instructions a call,
/// ~230 of the ~2,600 per forwarded packet (callgrind, `make bench`).
#[inline]
fn le_word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = bytes.len().min(8);
    w[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(w)
}

fn compress<const C: usize>(v: &mut [u64; 4], m: u64) {
    v[3] ^= m;
    for _ in 0..C {
        round(v);
    }
    v[0] ^= m;
}

#[inline(always)]
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
    use std::net::Ipv4Addr;

    /// SipHash-2-4 outputs of the reference implementation
    /// (github.com/veorq/SipHash, vectors.h; also the paper's appendix):
    /// key 00 01 .. 0f, message 00 01 .. (i-1) for i = 0..64.
    const SIP24_REFERENCE: [u64; 64] = [
        0x726fdb47dd0e0e31,
        0x74f839c593dc67fd,
        0x0d6c8009d9a94f5a,
        0x85676696d7fb7e2d,
        0xcf2794e0277187b7,
        0x18765564cd99a68d,
        0xcbc9466e58fee3ce,
        0xab0200f58b01d137,
        0x93f5f5799a932462,
        0x9e0082df0ba9e4b0,
        0x7a5dbbc594ddb9f3,
        0xf4b32f46226bada7,
        0x751e8fbc860ee5fb,
        0x14ea5627c0843d90,
        0xf723ca908e7af2ee,
        0xa129ca6149be45e5,
        0x3f2acc7f57c29bdb,
        0x699ae9f52cbe4794,
        0x4bc1b3f0968dd39c,
        0xbb6dc91da77961bd,
        0xbed65cf21aa2ee98,
        0xd0f2cbb02e3b67c7,
        0x93536795e3a33e88,
        0xa80c038ccd5ccec8,
        0xb8ad50c6f649af94,
        0xbce192de8a85b8ea,
        0x17d835b85bbb15f3,
        0x2f2e6163076bcfad,
        0xde4daaaca71dc9a5,
        0xa6a2506687956571,
        0xad87a3535c49ef28,
        0x32d892fad841c342,
        0x7127512f72f27cce,
        0xa7f32346f95978e3,
        0x12e0b01abb051238,
        0x15e034d40fa197ae,
        0x314dffbe0815a3b4,
        0x027990f029623981,
        0xcadcd4e59ef40c4d,
        0x9abfd8766a33735c,
        0x0e3ea96b5304a7d0,
        0xad0c42d6fc585992,
        0x187306c89bc215a9,
        0xd4a60abcf3792b95,
        0xf935451de4f21df2,
        0xa9538f0419755787,
        0xdb9acddff56ca510,
        0xd06c98cd5c0975eb,
        0xe612a3cb9ecba951,
        0xc766e62cfcadaf96,
        0xee64435a9752fe72,
        0xa192d576b245165a,
        0x0a8787bf8ecb74b2,
        0x81b3e73d20b49b6f,
        0x7fa8220ba3b2ecea,
        0x245731c13ca42499,
        0xb78dbfaf3a8d83bd,
        0xea1ad565322a1a0b,
        0x60e61c23a3795013,
        0x6606d7e446282b93,
        0x6ca4ecb15c5f91e1,
        0x9f626da15c9625f3,
        0xe51b38608ef25f57,
        0x958a324ceb064572,
    ];

    /// SipHash-1-3 outputs of the reference implementation (veorq/SipHash
    /// built with cROUNDS=1, dROUNDS=3), all-zero key, message 00 01 ..
    /// (i-1), for i = 0..16 and a few longer lengths (as published in the
    /// OCaml runtime's test suite, testsuite/tests/hash/sip13.ml).
    const SIP13_ZERO_KEY: [(usize, u64); 20] = [
        (0, 0xd1fba762150c532c),
        (1, 0x68a914128e01e473),
        (2, 0x010bac45c41e3669),
        (3, 0x4d4c9a4a8ef6e0ad),
        (4, 0x7cc43f98813e4dbd),
        (5, 0x5abe2169dff36275),
        (6, 0xe3c25f87624f1cdb),
        (7, 0x2f098ab0c751325a),
        (8, 0xead411e67ebe2eea),
        (9, 0x75927f9d95124362),
        (10, 0xaf9f77a65ab51a1d),
        (11, 0xfe64ce8b6617fcff),
        (12, 0xa6baf4fb0f9fe1c2),
        (13, 0xa0cf3211850f8e0d),
        (14, 0x7f86049379fbfe67),
        (15, 0xf30eb725bb91c9ea),
        (16, 0x8972188433a5c5b7),
        (19, 0x091f4a3329f87d19),
        (32, 0x31ef8061c910629b),
        (63, 0x385d3e39e5f37359),
    ];

    fn counting(n: usize) -> Vec<u8> {
        (0..n as u8).collect()
    }

    #[test]
    fn siphash24_reference_vectors() {
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        for (i, want) in SIP24_REFERENCE.iter().enumerate() {
            assert_eq!(siphash::<2, 4>(&key, &counting(i)), *want, "length {i}");
        }
    }

    #[test]
    fn siphash13_reference_vectors() {
        for (n, want) in SIP13_ZERO_KEY {
            assert_eq!(siphash13(&[0; 16], &counting(n)), want, "length {n}");
        }
    }

    /// The key is used as two little-endian words, like std's (deprecated
    /// but still shipped) SipHasher, cross-checked on arbitrary keys.
    #[test]
    #[allow(deprecated)]
    fn key_layout_matches_std_siphasher() {
        use std::hash::{Hasher, SipHasher};
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..40 {
            x = x.wrapping_mul(0x5851_f42d_4c95_7f2d).wrapping_add(1);
            let key: [u8; 16] = core::array::from_fn(|i| (x >> (i % 8 * 8)) as u8 ^ i as u8);
            let msg: Vec<u8> = (0..len).map(|i| (x >> (i % 7)) as u8).collect();
            let mut std = SipHasher::new_with_keys(
                u64::from_le_bytes(key[..8].try_into().unwrap()),
                u64::from_le_bytes(key[8..].try_into().unwrap()),
            );
            std.write(&msg);
            assert_eq!(siphash::<2, 4>(&key, &msg), std.finish(), "length {len}");
        }
    }

    /// The word-built tuple hash is SipHash-1-3 of the 13 tuple bytes.
    #[test]
    fn tuple_hash_is_siphash13_of_the_tuple_bytes() {
        let mut rng = crate::rng::XorShift64Star::new(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2000 {
            let x = rng.next_u64();
            let b = x.to_le_bytes();
            let t = Tuple::new(
                b[0],
                Ipv4Addr::from((x >> 8) as u32),
                (x >> 3) as u16,
                Ipv4Addr::from((x >> 29) as u32),
                (x >> 45) as u16,
            );
            let key: [u8; 16] = core::array::from_fn(|i| b[i % 8] ^ i as u8);
            let [s0, s1, s2, s3] = t.src.octets();
            let [d0, d1, d2, d3] = t.dst.octets();
            let [sp0, sp1] = t.sport.to_be_bytes();
            let [dp0, dp1] = t.dport.to_be_bytes();
            let bytes = [t.proto, s0, s1, s2, s3, d0, d1, d2, d3, sp0, sp1, dp0, dp1];
            assert_eq!(hash_tuple(&key, &t), siphash13(&key, &bytes), "{t}");
        }
    }

    #[test]
    fn tuple_hash_depends_on_key_and_every_field() {
        let t = Tuple::new(
            6,
            Ipv4Addr::new(10, 0, 0, 1),
            1234,
            Ipv4Addr::new(10, 0, 0, 2),
            80,
        );
        let k = [7; 16];
        let h = hash_tuple(&k, &t);
        assert_eq!(h, hash_tuple(&k, &t));
        assert_ne!(h, hash_tuple(&[8; 16], &t));
        for other in [
            Tuple { proto: 17, ..t },
            Tuple { sport: 1235, ..t },
            Tuple { dport: 81, ..t },
            Tuple {
                src: Ipv4Addr::new(10, 0, 0, 3),
                ..t
            },
            Tuple {
                dst: Ipv4Addr::new(10, 0, 0, 3),
                ..t
            },
            t.reversed(),
        ] {
            assert_ne!(h, hash_tuple(&k, &other), "{other}");
        }
    }
}
