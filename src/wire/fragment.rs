//! IPv4 fragmentation (RFC 791 §3.2, RFC 1812 §4.2.2.7) for a router that
//! must send a packet larger than the egress MTU whose DF bit is clear.
//!
//! Owns: splitting one IPv4 packet into fragments that each fit the MTU,
//! written as whole Ethernet frames (the caller's 14-byte Ethernet header
//! is copied in front). The first fragment keeps every option; later ones
//! keep only the options whose "copied" flag is set (RFC 791), padded to a
//! 4-byte boundary. Fragment offsets are relative to the packet's own
//! offset, so an already-fragmented packet can be split again. Never
//! panics, never allocates: the caller supplies a writer per fragment.

use super::ipv4::{HEADER_LEN, Ipv4Packet};
use super::{Error, Result};

/// Most bytes of IPv4 options (IHL 15 × 4 − 20).
const MAX_OPTIONS: usize = 40;
const ETH_HEADER: usize = 14;

/// The options a later fragment carries: those with the copied flag, NOPs
/// dropped, padded with End-of-list to a multiple of 4.
fn copied_options(opts: &[u8], out: &mut [u8; MAX_OPTIONS]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        match kind {
            0 => break,
            1 => i += 1,
            _ => {
                let len = usize::from(opts.get(i + 1).copied().unwrap_or(0));
                if len < 2 {
                    break; // malformed: stop copying
                }
                if kind & 0x80 != 0
                    && let (Some(src), Some(dst)) = (opts.get(i..i + len), out.get_mut(n..n + len))
                {
                    dst.copy_from_slice(src);
                    n += len;
                }
                i += len;
            }
        }
    }
    let padded = n.div_ceil(4) * 4;
    for b in out.iter_mut().take(padded).skip(n) {
        *b = 0;
    }
    padded
}

/// Split the IPv4 packet `ip` (with `eth` as the Ethernet header of every
/// fragment) into fragments of at most `mtu` bytes of IP each, calling
/// `emit` once per fragment with a writer that fills a frame buffer and
/// returns its length (0 if the buffer was too small). Returns how many
/// fragments were emitted. Errors: not a valid IPv4 packet, DF set, or an
/// MTU too small to carry 8 bytes of payload after the header (< 68 in
/// practice).
pub fn fragment(
    eth: &[u8; ETH_HEADER],
    ip: &[u8],
    mtu: usize,
    mut emit: impl FnMut(&dyn Fn(&mut [u8]) -> usize),
) -> Result<usize> {
    let p = Ipv4Packet::new_checked(ip)?;
    if p.dont_frag() {
        return Err(Error::Unsupported);
    }
    let hl = p.header_len();
    let total = usize::from(p.total_len());
    let payload = ip.get(hl..total).ok_or(Error::Truncated)?;
    let header = ip.get(..hl).ok_or(Error::Truncated)?;
    let mut later_opts = [0u8; MAX_OPTIONS];
    let later_opts_len = copied_options(p.options(), &mut later_opts);
    let base_off = usize::from(p.frag_offset()) * 8;
    let last_more = p.more_frags();
    let mut done = 0;
    let mut count = 0;
    while done < payload.len() {
        let first = done == 0;
        let hlen = if first {
            hl
        } else {
            HEADER_LEN + later_opts_len
        };
        let room = mtu.checked_sub(hlen).ok_or(Error::Malformed)? & !7;
        if room == 0 {
            return Err(Error::Malformed);
        }
        let chunk = room.min(payload.len() - done);
        let more = done + chunk < payload.len() || last_more;
        let offset = (base_off + done) / 8;
        let offset = u16::try_from(offset).map_err(|_| Error::Malformed)?;
        let data = payload.get(done..done + chunk).ok_or(Error::Truncated)?;
        let write = |buf: &mut [u8]| -> usize {
            let len = ETH_HEADER + hlen + chunk;
            let Some(b) = buf.get_mut(..len) else {
                return 0;
            };
            b[..ETH_HEADER].copy_from_slice(eth);
            let (h, rest) = b[ETH_HEADER..].split_at_mut(hlen);
            if first {
                h.copy_from_slice(header);
            } else {
                h[..HEADER_LEN].copy_from_slice(&header[..HEADER_LEN]);
                h[HEADER_LEN..].copy_from_slice(&later_opts[..later_opts_len]);
            }
            rest.copy_from_slice(data);
            let mut v = Ipv4Packet::new_unchecked(h);
            v.set_version_and_header_len(hlen);
            // hlen + chunk <= mtu <= u16 range checked by the caller's MTU.
            v.set_total_len(u16::try_from(hlen + chunk).unwrap_or(u16::MAX));
            v.set_flags_and_offset(false, more, offset);
            v.fill_checksum();
            len
        };
        emit(&write);
        count += 1;
        done += chunk;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4::Ipv4Repr;

    fn packet(payload_len: usize, options: &[u8]) -> Vec<u8> {
        let hl = HEADER_LEN + options.len();
        let mut b = vec![0u8; hl + payload_len];
        let r = Ipv4Repr {
            ident: 0x4242,
            ..Ipv4Repr::new([10, 0, 0, 1].into(), [10, 0, 0, 2].into(), 17, payload_len)
        };
        r.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
        b[HEADER_LEN..hl].copy_from_slice(options);
        for (i, x) in b[hl..].iter_mut().enumerate() {
            *x = (i % 251) as u8;
        }
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.set_version_and_header_len(hl);
        p.set_total_len((hl + payload_len) as u16);
        p.fill_checksum();
        b
    }

    fn split(ip: &[u8], mtu: usize) -> Vec<Vec<u8>> {
        let eth = [1u8; 14];
        let mut out = Vec::new();
        fragment(&eth, ip, mtu, |w| {
            let mut buf = vec![0u8; 1600];
            let n = w(&mut buf);
            assert!(n > 0);
            buf.truncate(n);
            assert_eq!(&buf[..14], &eth);
            out.push(buf[14..].to_vec());
        })
        .unwrap();
        out
    }

    /// Reassemble by offsets and compare with the original payload.
    #[test]
    fn fragments_fit_and_reassemble() {
        let ip = packet(3000, &[]);
        let frags = split(&ip, 1400);
        assert_eq!(frags.len(), 3);
        let mut data = vec![0u8; 3000];
        for (k, f) in frags.iter().enumerate() {
            let p = Ipv4Packet::new_checked(&f[..]).unwrap();
            assert!(p.verify_checksum());
            assert!(f.len() <= 1400);
            assert_eq!(p.ident(), 0x4242);
            assert_eq!(p.more_frags(), k < 2);
            let off = usize::from(p.frag_offset()) * 8;
            if k < 2 {
                assert_eq!(p.payload().len() % 8, 0);
            }
            data[off..off + p.payload().len()].copy_from_slice(p.payload());
        }
        assert_eq!(&data[..], &ip[20..]);
    }

    #[test]
    fn later_fragments_carry_only_copied_options() {
        // Record route (7, not copied) + a copied option 0x94 (router alert), 4+4 bytes.
        let opts = [7, 4, 4, 0, 0x94, 4, 0, 0];
        let ip = packet(200, &opts);
        let frags = split(&ip, 100);
        let first = Ipv4Packet::new_checked(&frags[0][..]).unwrap();
        assert_eq!(first.options(), &opts);
        let second = Ipv4Packet::new_checked(&frags[1][..]).unwrap();
        assert_eq!(second.options(), &[0x94, 4, 0, 0]);
        let total: usize = frags
            .iter()
            .map(|f| Ipv4Packet::new_checked(&f[..]).unwrap().payload().len())
            .sum();
        assert_eq!(total, 200);
    }

    #[test]
    fn refragmenting_a_fragment_keeps_offsets_and_more_flag() {
        let mut ip = packet(1000, &[]);
        {
            let mut p = Ipv4Packet::new_unchecked(&mut ip[..]);
            p.set_flags_and_offset(false, true, 100);
            p.fill_checksum();
        }
        let frags = split(&ip, 500);
        let last = Ipv4Packet::new_checked(&frags[frags.len() - 1][..]).unwrap();
        assert!(last.more_frags(), "the original had MF set");
        let first = Ipv4Packet::new_checked(&frags[0][..]).unwrap();
        assert_eq!(first.frag_offset(), 100);
    }

    #[test]
    fn df_and_tiny_mtu_are_errors() {
        let mut ip = packet(100, &[]);
        assert_eq!(split(&ip, 1500).len(), 1);
        {
            let mut p = Ipv4Packet::new_unchecked(&mut ip[..]);
            p.set_dont_frag(true);
            p.fill_checksum();
        }
        assert_eq!(fragment(&[0; 14], &ip, 60, |_| {}), Err(Error::Unsupported));
        let ip = packet(100, &[]);
        assert_eq!(fragment(&[0; 14], &ip, 24, |_| {}), Err(Error::Malformed));
        assert_eq!(
            fragment(&[0; 14], &ip[..10], 600, |_| {}),
            Err(Error::Truncated)
        );
    }
}
