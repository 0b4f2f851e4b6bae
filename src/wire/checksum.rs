//! The internet checksum (RFC 1071) and its incremental update (RFC 1624,
//! equation 3) for rewriting fields in place (TTL decrement, NAT).
//! Pure arithmetic over byte slices; never panics, never allocates.

use std::net::Ipv4Addr;

/// Ones'-complement sum of `data` as 16-bit big-endian words (an odd last
/// byte is padded with zero), folded to 16 bits. Not complemented.
pub fn sum(data: &[u8]) -> u16 {
    fold(raw_sum(data))
}

/// Unfolded accumulation of 16-bit words; combine several with `+`, then
/// `fold`. A u64, so that no realistic input can overflow.
pub fn raw_sum(data: &[u8]) -> u64 {
    // Big-endian 32-bit words: (hi << 16) + lo ≡ hi + lo (mod 0xffff), so
    // the fold gives the same 16-bit sum with half the additions.
    let mut acc: u64 = 0;
    let mut quads = data.chunks_exact(4);
    for c in &mut quads {
        if let &[a, b, x, y] = c {
            acc = acc.wrapping_add(u64::from(u32::from_be_bytes([a, b, x, y])));
        }
    }
    let mut pairs = quads.remainder().chunks_exact(2);
    for c in &mut pairs {
        if let &[a, b] = c {
            acc = acc.wrapping_add(u64::from(u16::from_be_bytes([a, b])));
        }
    }
    if let &[last] = pairs.remainder() {
        acc = acc.wrapping_add(u64::from(u16::from_be_bytes([last, 0])));
    }
    acc
}

/// Fold a wide ones'-complement accumulator to 16 bits (end-around carry).
pub fn fold(acc: u64) -> u16 {
    // 64 → 32 bits with the end-around carry (2^32 ≡ 1 mod 0xffff; with a
    // carry out the sum is at most 2^32 - 2, so adding it back cannot
    // overflow), then 32 → 16 as Linux's `csum_fold`: the high half of
    // x + (x rotated by 16) is hi + lo plus the carry out of lo + hi. Each
    // step keeps the value mod 0xffff and keeps it non-zero, so the result
    // is the carry loop's.
    let (s, carry) = (acc as u32).overflowing_add((acc >> 32) as u32);
    let x = s.wrapping_add(u32::from(carry));
    (x.wrapping_add(x.rotate_left(16)) >> 16) as u16
}

/// The internet checksum of `data`: the complement of the folded sum.
/// Write this into a zeroed checksum field; a buffer whose checksum field
/// holds it then satisfies [`verify`].
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// True when `data` (including its checksum field) sums to 0xffff.
pub fn verify(data: &[u8]) -> bool {
    sum(data) == 0xffff
}

/// Unfolded sum of the IPv4 pseudo-header (RFC 768 / RFC 5798 §5.2.8):
/// source, destination, zero + protocol, upper-layer length.
pub fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u64 {
    raw_sum(&src.octets()) + raw_sum(&dst.octets()) + u64::from(protocol) + u64::from(length)
}

/// Checksum of `data` preceded by an IPv4 pseudo-header.
pub fn checksum_with_pseudo(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, data: &[u8]) -> u16 {
    let len = u16::try_from(data.len()).unwrap_or(u16::MAX);
    !fold(pseudo_header_sum(src, dst, protocol, len) + raw_sum(data))
}

/// True when `data` with an IPv4 pseudo-header in front sums to 0xffff.
pub fn verify_with_pseudo(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, data: &[u8]) -> bool {
    let Ok(len) = u16::try_from(data.len()) else {
        return false;
    };
    fold(pseudo_header_sum(src, dst, protocol, len) + raw_sum(data)) == 0xffff
}

/// RFC 1624 eqn. 3: the new checksum after one 16-bit word covered by
/// checksum `hc` changed from `old` to `new`: HC' = ~(~HC + ~m + m').
pub fn update_u16(hc: u16, old: u16, new: u16) -> u16 {
    !fold(u64::from(!hc) + u64::from(!old) + u64::from(new))
}

/// As [`update_u16`] for a 32-bit field (two words), e.g. an IPv4 address.
pub fn update_u32(hc: u16, old: u32, new: u32) -> u16 {
    let acc = u64::from(!hc)
        + u64::from(!(old >> 16) as u16)
        + u64::from(!(old as u16))
        + u64::from((new >> 16) as u16)
        + u64::from(new as u16);
    !fold(acc)
}

/// As [`update_u32`] for an IPv4 address change (NAT).
pub fn update_addr(hc: u16, old: Ipv4Addr, new: Ipv4Addr) -> u16 {
    update_u32(hc, u32::from(old), u32::from(new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_equals_the_carry_loop() {
        let slow = |mut a: u64| {
            while a > 0xffff {
                a = (a & 0xffff) + (a >> 16);
            }
            a as u16
        };
        let mut rng = crate::rng::XorShift64Star::new(7);
        let edges = [
            0,
            1,
            0xfffe,
            0xffff,
            0x1_0000,
            0x1_fffe,
            0xffff_ffff,
            1 << 32,
            u64::MAX,
        ];
        let random = (0..100_000).map(|i| rng.next_u64() >> (i % 64));
        for v in edges.into_iter().chain(random) {
            assert_eq!(fold(v), slow(v), "{v:#x}");
        }
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn known_ipv4_header() {
        // A classic example header (Wikipedia "IPv4 header checksum").
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        let c = checksum(&h);
        assert_eq!(c, 0xb861);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(verify(&h));
        h[3] ^= 1;
        assert!(!verify(&h));
    }

    #[test]
    fn rfc1624_worked_example() {
        // RFC 1624 §4: m = 0x5555 -> m' = 0x3285, sum of the rest 0xCD7A.
        let c: u64 = 0xcd7a;
        let hc = !fold(c + 0x5555);
        assert_eq!(hc, 0xdd2f);
        let recomputed = !fold(c + 0x3285);
        assert_eq!(recomputed, 0x0000);
        // Eqn. 3 agrees with recomputation (eqn. 2 of RFC 1141 gave 0xffff).
        assert_eq!(update_u16(hc, 0x5555, 0x3285), 0x0000);
    }

    #[test]
    fn incremental_matches_recompute() {
        let mut h = [
            0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 0x0a, 0x00,
            0x00, 0x01, 0x08, 0x08, 0x08, 0x08,
        ];
        let c = checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        // TTL decrement: word at offset 8 is ttl<<8 | proto.
        for _ in 0..64 {
            let old = u16::from_be_bytes([h[8], h[9]]);
            h[8] = h[8].wrapping_sub(1);
            let new = u16::from_be_bytes([h[8], h[9]]);
            let hc = u16::from_be_bytes([h[10], h[11]]);
            let upd = update_u16(hc, old, new);
            h[10..12].copy_from_slice(&upd.to_be_bytes());
            assert!(verify(&h), "ttl {}", h[8]);
        }
        // Source address rewrite.
        let old = Ipv4Addr::new(10, 0, 0, 1);
        let new = Ipv4Addr::new(203, 0, 113, 250);
        h[12..16].copy_from_slice(&new.octets());
        let hc = u16::from_be_bytes([h[10], h[11]]);
        h[10..12].copy_from_slice(&update_addr(hc, old, new).to_be_bytes());
        assert!(verify(&h));
        let mut z = h;
        z[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(u16::from_be_bytes([h[10], h[11]]), checksum(&z));
    }

    #[test]
    fn pseudo_header() {
        let src = Ipv4Addr::new(192, 0, 2, 1);
        let dst = Ipv4Addr::new(224, 0, 0, 18);
        let mut msg = [0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0, 0, 192, 0, 2, 100];
        let c = checksum_with_pseudo(src, dst, 112, &msg);
        msg[6..8].copy_from_slice(&c.to_be_bytes());
        assert!(verify_with_pseudo(src, dst, 112, &msg));
        assert!(!verify(&msg));
        // Independent: explicit pseudo-header bytes.
        let mut all = vec![192, 0, 2, 1, 224, 0, 0, 18, 0, 112, 0, 12];
        all.extend_from_slice(&msg);
        assert!(verify(&all));
    }
}
