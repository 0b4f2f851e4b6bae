//! TCP connection tracking, after Linux `nf_conntrack_proto_tcp`: the
//! state transition table (states SYN_SENT … CLOSE and SYN_SENT2) and a
//! simplified `tcp_in_window` (no SACK, no retransmission counting, no
//! max-ack RST check) that keeps blind RSTs and out-of-window segments
//! from moving a session. Owns the per-direction window data of a
//! session; never touches the table, timeouts or counters.
//!
//! Deviations from Linux, on purpose:
//! * A SYN from the original side on a TIME_WAIT or CLOSE session reopens
//!   it in place (same id, tuples and NAT mapping) instead of Linux's
//!   kill-and-repeat; a reply-side SYN there is invalid (Linux would let
//!   the server open a new connection the other way, which a NAT'd
//!   session could not carry anyway).
//! * Sessions learned from sync have no window data. Both directions start
//!   `UNSEEN`: each direction's first segment initializes its data the way
//!   Linux picks up a connection mid-stream, and while any direction is
//!   still unseen an out-of-window segment is let through (counted) instead
//!   of being invalid. Once both directions were seen, tracking is strict,
//!   with one allowance: on a session learned from sync an ACK may
//!   acknowledge up to one window of data beyond the highest sequence
//!   seen here (the receiver's end moves there). The peer carried that
//!   data, and around a takeover both routers forward for a moment
//!   (switches learn the virtual MAC back and forth), so this router sees
//!   the ACKs of data that went the other way; Linux would call them
//!   invalid too and conntrackd setups run `nf_conntrack_tcp_be_liberal`.
//!   Without it every later ACK was out of window and the connection
//!   wedged (tests/netns_faults.rs, the master's LAN link down and back).

use super::session::{Session, TcpState, pick, tcp_flag, with};
use super::{Dir, TcpInfo};
use crate::wire::tcp::{MAX_WINDOW_SHIFT, SeqNumber, flags as f};

/// What one segment does to a session.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// In window; the session's state is now this (maybe unchanged).
    Accept(TcpState),
    /// Accepted only because the session is still liberal (from sync).
    Liberal(TcpState),
    /// Passes without changing the session (Linux's "ignore", e.g. a SYN
    /// on an established session).
    Ignore,
    /// A SYN from the opener on a TIME_WAIT/CLOSE session: reopened.
    Reopen,
    InvalidFlags,
    InvalidState,
    InvalidWindow,
}

const IV: u8 = 10;
const IG: u8 = 11;
const NO: u8 = 0;
const SS: u8 = TcpState::SynSent as u8;
const SR: u8 = TcpState::SynRecv as u8;
const ES: u8 = TcpState::Established as u8;
const FW: u8 = TcpState::FinWait as u8;
const CW: u8 = TcpState::CloseWait as u8;
const LA: u8 = TcpState::LastAck as u8;
const TW: u8 = TcpState::TimeWait as u8;
const CL: u8 = TcpState::Close as u8;
const S2: u8 = TcpState::SynSent2 as u8;

/// `[direction][flag index][old state]` → new state, IV (invalid) or IG
/// (ignore); Linux's `tcp_conntracks`. Flag index: SYN, SYN+ACK, FIN,
/// ACK, RST, none. Columns: none, SS, SR, ES, FW, CW, LA, TW, CL, S2.
#[rustfmt::skip]
const TRANSITIONS: [[[u8; 10]; 6]; 2] = [
    [ // original
        /* syn    */ [SS, SS, IG, IG, IG, IG, IG, SS, SS, S2],
        /* synack */ [IV, IV, SR, IV, IV, IV, IV, IV, IV, SR],
        /* fin    */ [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        /* ack    */ [ES, IV, ES, ES, CW, CW, TW, TW, CL, IV],
        /* rst    */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /* none   */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
    ],
    [ // reply
        /* syn    */ [IV, S2, IV, IV, IV, IV, IV, SS, IV, S2],
        /* synack */ [IV, SR, IG, IG, IG, IG, IG, IG, IG, SR],
        /* fin    */ [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        /* ack    */ [IV, IG, SR, ES, CW, CW, TW, TW, CL, IG],
        /* rst    */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /* none   */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
    ],
];
const _: () = assert!(NO == 0);

/// Flag combinations a segment may carry (Linux `tcp_valid_flags`, over
/// FIN, SYN, RST, ACK, URG; PSH, ECE, CWR are ignored).
const VALID_FLAGS: [u8; 9] = [
    f::SYN,
    f::SYN | f::URG,
    f::SYN | f::ACK,
    f::RST,
    f::RST | f::ACK,
    f::FIN | f::ACK,
    f::FIN | f::ACK | f::URG,
    f::ACK,
    f::ACK | f::URG,
];

/// `VALID_FLAGS` as a bit set over the masked flag byte (< 64).
const VALID_SET: u64 = {
    let mut set = 0u64;
    let mut i = 0;
    while i < VALID_FLAGS.len() {
        set |= 1 << VALID_FLAGS[i];
        i += 1;
    }
    set
};

pub(super) fn valid_flags(flags: u8) -> bool {
    let m = flags & (f::FIN | f::SYN | f::RST | f::ACK | f::URG);
    m < 64 && VALID_SET & (1 << m) != 0
}

fn flag_index(flags: u8) -> usize {
    if flags & f::RST != 0 {
        4
    } else if flags & f::SYN != 0 {
        usize::from(flags & f::ACK != 0)
    } else if flags & f::FIN != 0 {
        2
    } else if flags & f::ACK != 0 {
        3
    } else {
        5
    }
}

/// May a segment with these flags open a session? Only a plain SYN (no
/// ACK, RST or FIN): there is no mid-stream pick-up.
pub(super) fn opens(flags: u8) -> bool {
    valid_flags(flags) && flag_index(flags) == 0
}

/// One direction's window data (Linux `ip_ct_tcp_state`), unpacked.
#[derive(Copy, Clone, Debug, Default)]
struct Side {
    end: SeqNumber,
    maxend: SeqNumber,
    maxwin: u32,
    flags: u8,
}

impl Side {
    fn scale(&self) -> u8 {
        (self.flags & tcp_flag::SCALE_MASK).min(MAX_WINDOW_SHIFT)
    }
    fn set_scale(&mut self, s: u8) {
        self.flags = self.flags & !tcp_flag::SCALE_MASK | s.min(MAX_WINDOW_SHIFT);
    }
    fn wscale_seen(&self) -> bool {
        self.flags & tcp_flag::WSCALE_SEEN != 0
    }
    /// Options of a SYN: the offered window scale (Linux `tcp_options`).
    fn set_options(&mut self, wscale: Option<u8>) {
        self.flags &= tcp_flag::UNSEEN | tcp_flag::SYNCED;
        if let Some(s) = wscale {
            self.flags |= tcp_flag::WSCALE_SEEN;
            self.set_scale(s);
        }
    }
}

fn load(s: &Session) -> [Side; 2] {
    let side = |end, maxend, maxwin, flags| Side {
        end: SeqNumber(end),
        maxend: SeqNumber(maxend),
        maxwin,
        flags,
    };
    let ([e0, e1], [m0, m1], [w0, w1], [f0, f1]) =
        (s.tcp_end, s.tcp_maxend, s.tcp_maxwin, s.tcp_dir);
    [side(e0, m0, w0, f0), side(e1, m1, w1, f1)]
}

fn store(s: &mut Session, [o, r]: [Side; 2]) {
    s.tcp_end = [o.end.0, r.end.0];
    s.tcp_maxend = [o.maxend.0, r.maxend.0];
    s.tcp_maxwin = [o.maxwin, r.maxwin];
    s.tcp_dir = [o.flags, r.flags];
}

fn seg_end(t: &TcpInfo) -> SeqNumber {
    t.seq
        + u32::from(t.payload_len)
        + u32::from(t.flags & f::SYN != 0)
        + u32::from(t.flags & f::FIN != 0)
}

/// Start tracking from a SYN of the original side: a new session, or a
/// TIME_WAIT/CLOSE one reopened (Linux `tcp_new`).
pub(super) fn open(s: &mut Session, t: &TcpInfo) {
    let end = seg_end(t);
    let mut orig = Side {
        end,
        maxend: end,
        maxwin: u32::from(t.window).max(1),
        flags: 0,
    };
    orig.set_options(t.wscale);
    store(s, [orig, Side::default()]);
    s.state = TcpState::SynSent as u8;
}

/// A session learned from sync: no window data, liberal until both
/// directions were seen; `wscale` as the peer tracked it.
pub(super) fn open_synced(s: &mut Session, state: TcpState, wscale: [u8; 2]) {
    let side = |scale: u8| {
        let mut d = Side {
            flags: tcp_flag::UNSEEN,
            ..Side::default()
        };
        d.set_scale(scale);
        if scale > 0 {
            d.flags |= tcp_flag::WSCALE_SEEN;
        }
        d.flags |= tcp_flag::SYNCED;
        d
    };
    store(s, wscale.map(side));
    s.state = state as u8;
}

/// Classify one segment of `dir` and, when it is accepted, update the
/// window data. The caller stores the new state and handles timeouts.
pub(super) fn segment(s: &mut Session, dir: Dir, t: &TcpInfo) -> Verdict {
    if !valid_flags(t.flags) {
        return Verdict::InvalidFlags;
    }
    let Some(old) = s.tcp_state() else {
        return Verdict::InvalidState;
    };
    let next = TRANSITIONS
        .get(usize::from(dir == Dir::Reply))
        .and_then(|d| d.get(flag_index(t.flags)))
        .and_then(|row| row.get(old as usize))
        .copied()
        .unwrap_or(IV);
    let new = match next {
        IG => return Verdict::Ignore,
        SS if old >= TcpState::TimeWait => {
            return match dir {
                Dir::Original => Verdict::Reopen,
                Dir::Reply => Verdict::InvalidState,
            };
        }
        n => match TcpState::from_u8(n) {
            Some(new) => new,
            None => return Verdict::InvalidState,
        },
    };
    match in_window(old, dir, load(s), t) {
        Some((sides, in_win)) => {
            store(s, sides);
            if in_win {
                Verdict::Accept(new)
            } else {
                Verdict::Liberal(new)
            }
        }
        None => Verdict::InvalidWindow,
    }
}

/// Linux's MAXACKWINCONST: the smallest window an ACK may lag behind.
const MAX_ACK_WINDOW: u32 = 66_000;

/// Linux `tcp_in_window`, simplified. `Some((updated sides, in window))`
/// when the segment is acceptable (in window, or let through by a liberal
/// session), `None` when it is out of window (the session stays as it
/// was).
fn in_window(old: TcpState, dir: Dir, sides: [Side; 2], t: &TcpInfo) -> Option<([Side; 2], bool)> {
    let (mut snd, mut rcv) = (pick(sides, dir), pick(sides, other(dir)));
    let (syn, has_ack, rst) = (
        t.flags & f::SYN != 0,
        t.flags & f::ACK != 0,
        t.flags & f::RST != 0,
    );
    let (mut seq, mut ack, mut end) = (t.seq, t.ack, seg_end(t));
    let mut win = u32::from(t.window);
    let liberal = (snd.flags | rcv.flags) & tcp_flag::UNSEEN != 0;
    let put = |snd: Side, rcv: Side| with(with(sides, dir, snd), other(dir), rcv);

    if snd.maxwin == 0 {
        if syn {
            // SYN/ACK answering a SYN, or a SYN from the reply side.
            snd.end = end;
            snd.maxend = end;
            snd.maxwin = win.max(1);
            snd.set_options(t.wscale);
            // RFC 7323: scaling only when both sides offered it.
            if !(snd.wscale_seen() && rcv.wscale_seen()) {
                snd.set_scale(0);
                rcv.set_scale(0);
            }
            if !has_ack {
                snd.flags &= !tcp_flag::UNSEEN;
                return Some((put(snd, rcv), true));
            }
        } else {
            // First segment of this direction mid-stream (sync pick-up).
            snd.end = end;
            snd.maxwin = (win << snd.scale()).max(1);
            snd.maxend = end + snd.maxwin;
            if rcv.maxwin == 0 {
                rcv.end = ack;
                rcv.maxend = ack;
            } else if ack == rcv.end + 1 {
                // Likely the answer to a keepalive.
                rcv.end = rcv.end + 1;
            }
        }
    } else if ((old == TcpState::SynSent && dir == Dir::Original)
        || (old == TcpState::SynRecv && dir == Dir::Reply))
        && end.after(snd.end)
    {
        // A SYN (or SYN/ACK) retransmitted with a new initial sequence.
        snd.end = end;
        snd.maxend = end;
        snd.maxwin = win.max(1);
        snd.set_options(t.wscale);
    }

    if !has_ack || (rst && ack == SeqNumber(0)) {
        // No ACK (or a broken stack's RST with ACK 0): pretend it acks all.
        ack = rcv.end;
    }
    if rst && seq == SeqNumber(0) && old == TcpState::SynSent {
        // RST answering a SYN.
        seq = snd.end;
        end = snd.end;
    }

    let synced = (snd.flags | rcv.flags) & tcp_flag::SYNCED != 0;
    if synced
        && has_ack
        && !rst
        && ack.after(rcv.end)
        && ack.before(rcv.end + snd.maxwin.max(MAX_ACK_WINDOW) + 1)
    {
        // Data the peer carried (see the module docs): the receiver has
        // sent at least this far.
        rcv.end = ack;
    }
    let in_recv_win = rcv.maxwin == 0 || end.after(snd.end - rcv.maxwin - 1);
    let ack_window = snd.maxwin.max(MAX_ACK_WINDOW);
    let in_win = seq.before(snd.maxend + 1)
        && in_recv_win
        && ack.before(rcv.end + 1)
        && ack.after(rcv.end - ack_window - 1);
    if in_win {
        if !syn {
            win <<= snd.scale();
        }
        snd.maxwin = snd.maxwin.max(win);
        if end.after(snd.end) {
            snd.end = end;
        }
        if rcv.maxwin != 0 && end.after(snd.maxend) {
            rcv.maxwin = rcv.maxwin.wrapping_add(end - snd.maxend);
        }
        if (ack + win).after(rcv.maxend - 1) {
            rcv.maxend = ack + win + u32::from(win == 0);
        }
    } else if !liberal {
        return None;
    }
    snd.flags &= !tcp_flag::UNSEEN;
    Some((put(snd, rcv), in_win))
}

fn other(dir: Dir) -> Dir {
    match dir {
        Dir::Original => Dir::Reply,
        Dir::Reply => Dir::Original,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(flags: u8, seq: u32, ack: u32, window: u16, len: u16) -> TcpInfo {
        TcpInfo::new(flags, seq, ack, window, len)
    }

    /// `segment`, then store the new state as the table does.
    fn step(s: &mut Session, dir: Dir, t: TcpInfo) -> Verdict {
        let v = segment(s, dir, &t);
        if let Verdict::Accept(n) = v {
            s.state = n as u8;
        }
        v
    }

    #[test]
    fn only_a_plain_syn_opens() {
        assert!(opens(f::SYN));
        assert!(opens(f::SYN | f::URG | f::PSH | f::ECE | f::CWR));
        for bad in [
            f::SYN | f::ACK,
            f::SYN | f::RST,
            f::SYN | f::FIN,
            f::ACK,
            f::FIN | f::ACK,
            f::RST,
            0,
        ] {
            assert!(!opens(bad), "{bad:#x}");
        }
        assert!(!valid_flags(f::FIN), "FIN without ACK");
        assert!(!valid_flags(f::SYN | f::FIN | f::ACK));
        assert!(valid_flags(f::ACK | f::PSH));
    }

    #[test]
    fn handshake_scales_windows_only_when_both_offer() {
        for (client, server, want) in [
            (Some(7), Some(8), [7, 8]),
            (Some(7), None, [0, 0]),
            (None, Some(8), [0, 0]),
        ] {
            let mut s = Session::EMPTY;
            s.orig.proto = 6;
            let mut syn = info(f::SYN, 1000, 0, 65535, 0);
            syn.wscale = client;
            open(&mut s, &syn);
            let mut synack = info(f::SYN | f::ACK, 5000, 1001, 65535, 0);
            synack.wscale = server;
            assert_eq!(
                segment(&mut s, Dir::Reply, &synack),
                Verdict::Accept(TcpState::SynRecv)
            );
            assert_eq!(s.tcp_wscale(), want);
        }
    }

    #[test]
    fn data_beyond_the_advertised_window_is_invalid() {
        let mut s = Session::EMPTY;
        s.orig.proto = 6;
        open(&mut s, &info(f::SYN, 1000, 0, 1000, 0));
        let r = step(
            &mut s,
            Dir::Reply,
            info(f::SYN | f::ACK, 5000, 1001, 2000, 0),
        );
        assert_eq!(r, Verdict::Accept(TcpState::SynRecv));
        let ack = f::ACK;
        let est = step(&mut s, Dir::Original, info(ack, 1001, 5001, 1000, 0));
        assert_eq!(est, Verdict::Accept(TcpState::Established));
        // The server allowed 2000 bytes from 1001, up to 3001. Like Linux, a
        // segment may start at most there (a zero-window probe does); one
        // starting at 3002 is out of window.
        let before = load(&s);
        let far = step(&mut s, Dir::Original, info(ack, 3002, 5001, 1000, 10));
        assert_eq!(far, Verdict::InvalidWindow);
        assert_eq!(load(&s)[0].end, before[0].end, "session unchanged");
        let edge = step(&mut s, Dir::Original, info(ack, 3001, 5001, 1000, 10));
        assert_eq!(edge, Verdict::Accept(TcpState::Established));
        // Acknowledging data the client never sent is invalid.
        let bogus_ack = step(&mut s, Dir::Reply, info(ack, 5001, 9000, 2000, 0));
        assert_eq!(bogus_ack, Verdict::InvalidWindow);
        // So is data far below what the receiver already acknowledged.
        let stale = step(
            &mut s,
            Dir::Reply,
            info(ack, 5001u32.wrapping_sub(70_000), 3011, 2000, 10),
        );
        assert_eq!(stale, Verdict::InvalidWindow);
    }
}
