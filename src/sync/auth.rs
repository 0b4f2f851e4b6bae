//! The keyed MAC of authenticated sync frames: HMAC-SHA256 truncated to
//! 16 bytes (RustCrypto `hmac` + `sha2`, no hand-written crypto).
//!
//! Owns: the keyed state (keyed once, cloned per frame so the key schedule
//! is not redone), signing and constant-time verification. Never: frame
//! layout (that is `frame`), replay decisions (that is `window`).
//!
//! Size cost of `hmac` + `sha2` when linked (a probe binary calling only
//! `sign`/`verify`): +13,448 B on the static x86_64 musl build of
//! `cross/build.sh x86_64` (285,200 → 298,648), +14,912 B on the host
//! `cargo build --release` (654,032 → 668,944).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Bytes of MAC a frame carries.
pub const MAC_LEN: usize = 16;

/// A MAC key, ready to sign and verify.
#[derive(Clone)]
pub struct MacKey {
    keyed: Hmac<Sha256>,
}

impl core::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MacKey(..)")
    }
}

impl MacKey {
    /// A key from the configured `auth_key` bytes (HMAC takes any length).
    pub fn new(key: &[u8]) -> MacKey {
        MacKey {
            keyed: <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default())),
        }
    }

    /// The truncated MAC of `data`.
    pub fn sign(&self, data: &[u8]) -> [u8; MAC_LEN] {
        let mut m = self.keyed.clone();
        m.update(data);
        let full = m.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        if let Some(head) = full.get(..MAC_LEN) {
            out.copy_from_slice(head);
        }
        out
    }

    /// Whether `tag` is the truncated MAC of `data` (constant time).
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        if tag.len() != MAC_LEN {
            return false;
        }
        let mut m = self.keyed.clone();
        m.update(data);
        m.verify_truncated_left(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2_truncated() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let k = MacKey::new(b"Jefe");
        let tag = k.sign(b"what do ya want for nothing?");
        assert_eq!(
            tag,
            [
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
                0x75, 0xc7
            ]
        );
        assert!(k.verify(b"what do ya want for nothing?", &tag));
    }

    #[test]
    fn wrong_key_data_or_length_fails() {
        let k = MacKey::new(b"secret-1");
        let tag = k.sign(b"frame");
        assert!(!MacKey::new(b"secret-2").verify(b"frame", &tag));
        assert!(!k.verify(b"framE", &tag));
        assert!(!k.verify(b"frame", &tag[..15]));
        assert!(!k.verify(b"frame", &[]));
    }
}
