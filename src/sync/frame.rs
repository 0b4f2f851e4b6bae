//! Sync frame layout: fixed header, message payload, optional MAC, CRC32.
//!
//! Owns: the bytes around the messages and their checks: `seal` finishes a
//! frame in place, `open` validates one (length, magic, version, count,
//! CRC, MAC) and returns the header and payload. Never: message bodies
//! (that is `msg`), replay or sequence decisions.
//!
//! ```text
//!  0      2    3    4       6       8        12       16
//!  +------+----+----+-------+-------+--------+--------+----------+---------+-------+
//!  | magic|ver |flag| node  | count | boot   | seq    | messages | MAC(16) | CRC32 |
//!  | "HS" | 1  |    | u16   | u16   | u32    | u32    | ...      | if flag | BE    |
//!  +------+----+----+-------+-------+--------+--------+----------+---------+-------+
//! ```
//! All fields big-endian. `count` is the number of messages. The MAC
//! (HMAC-SHA256/128, present iff flag bit 0) covers header and messages,
//! so the sender's node, boot id and sequence number are authenticated;
//! the CRC covers everything before it, MAC included, so corruption is
//! told apart from a forgery. Unknown flag bits are ignored.

use super::auth::{MAC_LEN, MacKey};

pub const MAGIC: u16 = 0x4853;
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 16;
pub const CRC_LEN: usize = 4;
/// Flag bit: a MAC precedes the CRC.
pub const FLAG_MAC: u8 = 0x01;

/// Bytes a frame adds around its messages, with or without a MAC.
pub const fn overhead(mac: bool) -> usize {
    HEADER_LEN + CRC_LEN + if mac { MAC_LEN } else { 0 }
}

/// The header fields of a frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub node: u16,
    pub count: u16,
    pub boot: u32,
    pub seq: u32,
}

/// Why a datagram is not a valid frame; each maps to a counter.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Shorter than header and trailer.
    Truncated,
    Magic,
    Version,
    Crc,
    /// A key is configured and the frame has no MAC.
    MissingMac,
    /// The MAC does not match (wrong key or forged).
    BadMac,
    /// The frame has a MAC but no key is configured here.
    UnexpectedMac,
}

fn be16(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        a.copy_from_slice(s);
    }
    u16::from_be_bytes(a)
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_be_bytes(a)
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    if let Some(d) = b.get_mut(at..at + v.len()) {
        d.copy_from_slice(v);
    }
}

/// Finish a frame whose messages already sit in `buf[HEADER_LEN..end]`:
/// write the header, the MAC (with `key`) and the CRC. Returns the frame
/// length, or `None` if `buf` has no room for the trailer.
pub fn seal(buf: &mut [u8], end: usize, h: &Header, key: Option<&MacKey>) -> Option<usize> {
    let total = end.checked_add(CRC_LEN + if key.is_some() { MAC_LEN } else { 0 })?;
    if end < HEADER_LEN || total > buf.len() {
        return None;
    }
    put(buf, 0, &MAGIC.to_be_bytes());
    put(buf, 2, &[VERSION, if key.is_some() { FLAG_MAC } else { 0 }]);
    put(buf, 4, &h.node.to_be_bytes());
    put(buf, 6, &h.count.to_be_bytes());
    put(buf, 8, &h.boot.to_be_bytes());
    put(buf, 12, &h.seq.to_be_bytes());
    let mut at = end;
    if let Some(k) = key {
        let tag = k.sign(buf.get(..end)?);
        put(buf, at, &tag);
        at += MAC_LEN;
    }
    let crc = super::crc32::hash(buf.get(..at)?);
    put(buf, at, &crc.to_be_bytes());
    Some(total)
}

/// Validate a received frame; on success the header and the message bytes.
pub fn open<'a>(b: &'a [u8], key: Option<&MacKey>) -> Result<(Header, &'a [u8]), FrameError> {
    if b.len() < overhead(false) {
        return Err(FrameError::Truncated);
    }
    if be16(b, 0) != MAGIC {
        return Err(FrameError::Magic);
    }
    if b.get(2) != Some(&VERSION) {
        return Err(FrameError::Version);
    }
    let crc_at = b.len() - CRC_LEN;
    let body = b.get(..crc_at).ok_or(FrameError::Truncated)?;
    if super::crc32::hash(body) != be32(b, crc_at) {
        return Err(FrameError::Crc);
    }
    let has_mac = b.get(3).is_some_and(|f| f & FLAG_MAC != 0);
    let end = match (has_mac, key) {
        (false, None) => crc_at,
        (false, Some(_)) => return Err(FrameError::MissingMac),
        (true, None) => return Err(FrameError::UnexpectedMac),
        (true, Some(k)) => {
            let end = crc_at
                .checked_sub(MAC_LEN)
                .filter(|&e| e >= HEADER_LEN)
                .ok_or(FrameError::Truncated)?;
            let signed = b.get(..end).ok_or(FrameError::Truncated)?;
            let tag = b.get(end..crc_at).ok_or(FrameError::Truncated)?;
            if !k.verify(signed, tag) {
                return Err(FrameError::BadMac);
            }
            end
        }
    };
    let h = Header {
        node: be16(b, 4),
        count: be16(b, 6),
        boot: be32(b, 8),
        seq: be32(b, 12),
    };
    Ok((h, b.get(HEADER_LEN..end).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Header = Header {
        node: 2,
        count: 1,
        boot: 0x0102_0304,
        seq: 77,
    };

    fn frame(key: Option<&MacKey>) -> Vec<u8> {
        let mut buf = vec![0u8; 64];
        buf[HEADER_LEN..HEADER_LEN + 3].copy_from_slice(&[6, 0, 0xee]);
        let n = seal(&mut buf, HEADER_LEN + 3, &H, key).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn seal_then_open_with_and_without_key() {
        let f = frame(None);
        assert_eq!(f.len(), HEADER_LEN + 3 + CRC_LEN);
        assert_eq!(open(&f, None), Ok((H, &[6u8, 0, 0xee][..])));
        let k = MacKey::new(b"abcdefgh");
        let f = frame(Some(&k));
        assert_eq!(f.len(), HEADER_LEN + 3 + MAC_LEN + CRC_LEN);
        assert_eq!(open(&f, Some(&k)), Ok((H, &[6u8, 0, 0xee][..])));
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let k = MacKey::new(b"abcdefgh");
        for key in [None, Some(&k)] {
            let f = frame(key);
            for bit in 0..f.len() * 8 {
                let mut g = f.clone();
                g[bit / 8] ^= 1 << (bit % 8);
                assert!(open(&g, key).is_err(), "bit {bit} key {}", key.is_some());
            }
        }
    }

    #[test]
    fn mac_problems_are_told_apart() {
        let k = MacKey::new(b"abcdefgh");
        let other = MacKey::new(b"hgfedcba");
        assert_eq!(open(&frame(None), Some(&k)), Err(FrameError::MissingMac));
        assert_eq!(open(&frame(Some(&k)), None), Err(FrameError::UnexpectedMac));
        assert_eq!(
            open(&frame(Some(&k)), Some(&other)),
            Err(FrameError::BadMac)
        );
    }

    #[test]
    fn every_truncation_is_rejected() {
        let k = MacKey::new(b"abcdefgh");
        for key in [None, Some(&k)] {
            let f = frame(key);
            for n in 0..f.len() {
                assert!(open(&f[..n], key).is_err(), "len {n}");
            }
        }
    }

    #[test]
    fn header_checks() {
        let mut f = frame(None);
        f[0] = 0;
        assert_eq!(open(&f, None), Err(FrameError::Magic));
        let mut f = frame(None);
        f[2] = 9;
        assert_eq!(open(&f, None), Err(FrameError::Version));
        let mut buf = [0u8; 8];
        assert_eq!(seal(&mut buf, HEADER_LEN, &H, None), None);
    }
}
