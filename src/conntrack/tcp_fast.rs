//! The common TCP segment of an established flow, tracked without the
//! general machinery of `tcp::segment`: an ACK (maybe with PSH/URG, no
//! SYN/FIN/RST) on an ESTABLISHED session whose both directions were seen
//! here (neither UNSEEN nor SYNCED) and have window data. For such a
//! segment `tcp::segment` takes no transition (ESTABLISHED stays
//! ESTABLISHED in both directions), none of `in_window`'s special cases
//! (first segment, SYN retransmit, RST, sync allowance, liberal) applies,
//! and what is left is the window check and update below, done on the
//! session's fields in place. Owns only that; `established_ack` either
//! does exactly what `segment` would for an accepted segment, or nothing
//! (the caller then runs `segment`). A unit test compares both on random
//! sessions and segments.

use super::session::{Session, TcpState, tcp_flag};
use super::{Dir, TcpInfo};
use crate::wire::protocol;
use crate::wire::tcp::{MAX_WINDOW_SHIFT, SeqNumber, flags as f};

/// Linux's MAXACKWINCONST (as `tcp::MAX_ACK_WINDOW`).
const MAX_ACK_WINDOW: u32 = 66_000;

/// When `t` is an in-window ACK on an established session (see the module
/// docs): update the window data as `tcp::segment` does and return true
/// (its verdict would be `Accept(Established)`). Otherwise change nothing
/// and return false.
#[inline]
pub(super) fn established_ack(s: &mut Session, dir: Dir, t: &TcpInfo) -> bool {
    let tracked = f::FIN | f::SYN | f::RST | f::ACK;
    if s.orig.proto != protocol::TCP
        || s.state != TcpState::Established as u8
        || t.flags & tracked != f::ACK
    {
        return false;
    }
    let [d0, d1] = s.tcp_dir;
    if (d0 | d1) & (tcp_flag::UNSEEN | tcp_flag::SYNCED) != 0 {
        return false;
    }
    let [e0, e1] = &mut s.tcp_end;
    let [m0, m1] = &mut s.tcp_maxend;
    let [w0, w1] = &mut s.tcp_maxwin;
    // (sender, receiver) fields: one call per direction, so each works on
    // fixed offsets (not on pointers selected per packet).
    match dir {
        Dir::Original => window_update((e0, e1), (m0, m1), (w0, w1), d0, t),
        Dir::Reply => window_update((e1, e0), (m1, m0), (w1, w0), d1, t),
    }
}

/// The window check and update of `established_ack` on the (sender,
/// receiver) fields of one direction.
#[inline(always)]
fn window_update(
    (snd_end, rcv_end): (&mut u32, &mut u32),
    (snd_maxend, rcv_maxend): (&mut u32, &mut u32),
    (snd_maxwin, rcv_maxwin): (&mut u32, &mut u32),
    snd_flags: u8,
    t: &TcpInfo,
) -> bool {
    if *snd_maxwin == 0 || *rcv_maxwin == 0 {
        return false;
    }
    let (seq, ack) = (t.seq, t.ack);
    let end = seq + u32::from(t.payload_len);
    let (s_end, s_maxend) = (SeqNumber(*snd_end), SeqNumber(*snd_maxend));
    let (r_end, r_maxend) = (SeqNumber(*rcv_end), SeqNumber(*rcv_maxend));
    let ack_window = (*snd_maxwin).max(MAX_ACK_WINDOW);
    let in_win = seq.before(s_maxend + 1)
        && end.after(s_end - *rcv_maxwin - 1)
        && ack.before(r_end + 1)
        && ack.after(r_end - ack_window - 1);
    if !in_win {
        return false;
    }
    let scale = (snd_flags & tcp_flag::SCALE_MASK).min(MAX_WINDOW_SHIFT);
    let win = u32::from(t.window) << scale;
    *snd_maxwin = (*snd_maxwin).max(win);
    if end.after(s_end) {
        *snd_end = end.0;
    }
    if end.after(s_maxend) {
        *rcv_maxwin = rcv_maxwin.wrapping_add(end - s_maxend);
    }
    if (ack + win).after(r_maxend - 1) {
        *rcv_maxend = (ack + win + u32::from(win == 0)).0;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::tcp::{self, Verdict};
    use super::*;
    use crate::rng::XorShift64Star;

    fn tcp_fields(s: &Session) -> ([u32; 2], [u32; 2], [u32; 2], [u8; 2], u8) {
        (s.tcp_end, s.tcp_maxend, s.tcp_maxwin, s.tcp_dir, s.state)
    }

    /// A sequence number near `base` (often exactly on a window edge).
    fn near(rng: &mut XorShift64Star, base: u32, spread: u32) -> u32 {
        let d = rng.below(u64::from(spread) * 2 + 1) as u32;
        base.wrapping_add(d).wrapping_sub(spread)
    }

    #[test]
    fn fast_path_matches_segment() {
        let mut rng = XorShift64Star::new(0x7c9f_a11e_5eed_0001);
        let (mut taken, mut declined) = (0u32, 0u32);
        for _ in 0..200_000 {
            let mut s = Session::EMPTY;
            s.orig.proto = if rng.chance(0.97) {
                protocol::TCP
            } else {
                protocol::UDP
            };
            s.state = if rng.chance(0.8) {
                TcpState::Established as u8
            } else {
                rng.below(11) as u8
            };
            let base = rng.next_u64() as u32;
            for i in 0..2 {
                s.tcp_end[i] = near(&mut rng, base, 200_000);
                s.tcp_maxend[i] = if rng.chance(0.7) {
                    s.tcp_end[i].wrapping_add(rng.below(200_000) as u32)
                } else {
                    near(&mut rng, s.tcp_end[i], 200_000)
                };
                s.tcp_maxwin[i] = match rng.below(8) {
                    0 => 0,
                    1 => u32::MAX - rng.below(10) as u32,
                    _ => rng.below(300_000) as u32,
                };
                let mut d = rng.below(15) as u8 | tcp_flag::WSCALE_SEEN;
                if rng.chance(0.05) {
                    d |= tcp_flag::UNSEEN;
                }
                if rng.chance(0.05) {
                    d |= tcp_flag::SYNCED;
                }
                s.tcp_dir[i] = d;
            }
            let dir = if rng.chance(0.5) {
                Dir::Original
            } else {
                Dir::Reply
            };
            let (si, ri) = match dir {
                Dir::Original => (0, 1),
                Dir::Reply => (1, 0),
            };
            let mut flags = f::ACK;
            if rng.chance(0.3) {
                flags |= f::PSH;
            }
            if rng.chance(0.05) {
                flags |= f::URG | f::ECE | f::CWR;
            }
            if rng.chance(0.1) {
                flags = rng.below(256) as u8;
            }
            let spread = if rng.chance(0.7) { 3_000 } else { 150_000 };
            let seq = near(&mut rng, s.tcp_end[si], spread);
            let ack = near(&mut rng, s.tcp_end[ri], spread);
            let mut t = TcpInfo::new(
                flags,
                seq,
                ack,
                rng.below(65_536) as u16,
                rng.below(3000) as u16,
            );
            if rng.chance(0.1) {
                t.wscale = Some(rng.below(16) as u8);
            }
            let before = tcp_fields(&s);
            let mut fast = s.clone();
            let mut full = s.clone();
            let full_verdict = tcp::segment(&mut full, dir, &t);
            if established_ack(&mut fast, dir, &t) {
                taken += 1;
                assert_eq!(
                    full_verdict,
                    Verdict::Accept(TcpState::Established),
                    "{s:?} {t:?}"
                );
                assert_eq!(tcp_fields(&fast), tcp_fields(&full), "{s:?} {dir:?} {t:?}");
            } else {
                declined += 1;
                assert_eq!(tcp_fields(&fast), before, "declined but changed: {t:?}");
                // Declined in the common case only when out of window.
                let common = s.orig.proto == protocol::TCP
                    && s.state == TcpState::Established as u8
                    && flags & (f::FIN | f::SYN | f::RST | f::ACK) == f::ACK
                    && (s.tcp_dir[0] | s.tcp_dir[1]) & (tcp_flag::UNSEEN | tcp_flag::SYNCED) == 0
                    && s.tcp_maxwin[0] != 0
                    && s.tcp_maxwin[1] != 0;
                if common {
                    assert_eq!(full_verdict, Verdict::InvalidWindow, "{s:?} {dir:?} {t:?}");
                }
            }
        }
        assert!(taken > 20_000 && declined > 20_000, "{taken} {declined}");
    }
}
