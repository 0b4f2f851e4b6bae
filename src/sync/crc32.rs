//! CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of sync frames,
//! one table lookup per byte. Replaces the crc32fast crate, whose
//! slice-by-16 table alone is 16 kB of the firmware binary; this table is
//! 1 kB and built at compile time. A sync frame is at most an MTU, so the
//! byte-at-a-time loop costs a few microseconds per frame at worst.

const TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The CRC-32 of `data` (same value as zlib's `crc32` and `crc32fast::hash`).
pub fn hash(data: &[u8]) -> u32 {
    !data
        .iter()
        .fold(!0u32, |c, &b| TABLE[usize::from(c as u8 ^ b)] ^ (c >> 8))
}

#[cfg(test)]
mod tests {
    use super::hash;

    #[test]
    fn check_value_and_crc32fast_agree() {
        // The catalogue check value of CRC-32/ISO-HDLC.
        assert_eq!(hash(b"123456789"), 0xCBF4_3926);
        assert_eq!(hash(b""), 0);
        let mut rng = crate::rng::XorShift64Star::new(7);
        let mut buf = vec![0u8; 1600];
        for len in (0..1600).step_by(37).chain([1, 2, 3, 1499, 1500]) {
            for b in &mut buf[..len] {
                *b = rng.next_u64() as u8;
            }
            assert_eq!(hash(&buf[..len]), crc32fast::hash(&buf[..len]), "len {len}");
        }
    }
}
