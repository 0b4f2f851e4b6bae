//! `Sync` behaviour on hand-delivered datagrams: one node or two, no loss
//! model (the lossy two-node run is `tests/sync_pair.rs`).

use super::msg::{Decoded, Messages};
use super::window::WIDTH;
use super::*;
use crate::conntrack::Tuple;
use std::net::Ipv4Addr;

fn cfg(key: Option<&str>) -> ConntrackSync {
    ConntrackSync {
        auth_key: key.map(str::to_string),
        resync_timeout_secs: 5,
        line: 1,
        ..ConntrackSync::default()
    }
}

fn node(id: u16, boot: u32, key: Option<&str>) -> Sync {
    Sync::new(&cfg(key), id, boot, 1000, DEFAULT_MTU)
}

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn rec(node: u16, counter: u64, timeout: u32) -> SessionRecord {
    SessionRecord {
        id: session_id(node, counter),
        orig: Tuple::new(
            6,
            Ipv4Addr::new(192, 168, 10, 31),
            (counter % 50_000) as u16 + 1024,
            Ipv4Addr::new(203, 0, 113, 9),
            443,
        ),
        nat: NatMapping::Snat(Endpoint::new(
            Ipv4Addr::new(10, 0, 0, 1),
            (counter % 30_000) as u16 + 30_000,
        )),
        state: 3,
        flags: 1,
        timeout_secs: timeout,
    }
}

fn out(s: &mut Sync) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut buf = vec![0u8; 2048];
    while let Some(n) = s.poll_transmit(&mut buf) {
        v.push(buf[..n].to_vec());
    }
    v
}

/// The messages of a frame (no key).
fn msgs(f: &[u8]) -> Vec<Message> {
    let (h, p) = frame::open(f, None).unwrap();
    Messages::new(p, h.node)
        .map(|d| match d.unwrap() {
            Decoded::Known(m) => m,
            Decoded::Unknown(k) => panic!("unknown {k}"),
        })
        .collect()
}

fn seq_of(f: &[u8]) -> u32 {
    u32::from_be_bytes(f[12..16].try_into().unwrap())
}

/// Deliver every frame of `from` to `to`; returns how many were accepted.
fn pass(now: Instant, from: &mut Sync, to: &mut Sync) -> usize {
    out(from)
        .iter()
        .filter(|f| to.handle_datagram(now, f).is_ok())
        .count()
}

/// Two started nodes that know each other (initial resync done).
fn pair(key: Option<&str>) -> (Sync, Sync) {
    let mut a = node(1, 0xa, key);
    let mut b = node(2, 0xb, key);
    for ms in (0..3000).step_by(100) {
        let now = t(ms);
        if a.poll_timeout().is_some_and(|d| d <= now) {
            a.handle_timeout(now);
        }
        if b.poll_timeout().is_some_and(|d| d <= now) {
            b.handle_timeout(now);
        }
        a.bulk_step(now, |_| None);
        b.bulk_step(now, |_| None);
        a.flush(now);
        b.flush(now);
        pass(now, &mut a, &mut b);
        pass(now, &mut b, &mut a);
    }
    assert!(a.resync_status().settled() && b.resync_status().settled());
    assert!(a.peers().all(|p| p.up) && b.peers().all(|p| p.up));
    (a, b)
}

#[test]
fn start_asks_for_resync_and_sends_a_keepalive() {
    let mut a = node(1, 7, None);
    assert_eq!(a.poll_timeout(), Some(Instant::ZERO));
    a.handle_timeout(t(0));
    let frames = out(&mut a);
    assert_eq!(frames.len(), 1);
    let m = msgs(&frames[0]);
    assert!(m.contains(&Message::ResyncRequest { to: 0 }));
    assert!(m.iter().any(|m| matches!(m, Message::Keepalive(_))));
    assert!(matches!(a.resync_status(), ResyncStatus::Requested { .. }));
    assert_eq!(a.poll_timeout(), Some(t(1000)));
}

#[test]
fn resync_times_out_without_a_peer() {
    let mut a = node(1, 7, None);
    let mut now = t(0);
    while let Some(d) = a.poll_timeout() {
        if d > t(10_000) {
            break;
        }
        now = d;
        a.handle_timeout(now);
        out(&mut a);
    }
    assert_eq!(a.resync_status(), ResyncStatus::TimedOut { at: t(5000) });
    assert!(a.resync_status().settled());
    // retried once a second until then
    assert_eq!(a.stats().resync_requests_sent, 5);
    let _ = now;
}

#[test]
fn exports_fill_frames_up_to_the_mtu() {
    let mut a = node(1, 7, None);
    for c in 0..500 {
        a.export_new(&rec(1, c, 60));
    }
    a.flush(t(0));
    let frames = out(&mut a);
    assert!(
        frames
            .iter()
            .all(|f| f.len() <= DEFAULT_MTU - IP_UDP_HEADERS)
    );
    // all but the last frame are nearly full
    for f in &frames[..frames.len() - 1] {
        assert!(f.len() > DEFAULT_MTU - IP_UDP_HEADERS - 32, "{}", f.len());
    }
    let got: Vec<Message> = frames.iter().flat_map(|f| msgs(f)).collect();
    let want: Vec<Message> = (0..500).map(|c| Message::New(rec(1, c, 60))).collect();
    assert_eq!(got, want);
    let seqs: Vec<u32> = frames.iter().map(|f| seq_of(f)).collect();
    assert_eq!(seqs, (1..=frames.len() as u32).collect::<Vec<_>>());
}

#[test]
fn receiver_applies_new_update_destroy() {
    let (mut a, mut b) = pair(None);
    let now = t(3000);
    for c in 0..10 {
        a.export_new(&rec(1, c, 60));
    }
    a.export_update(session_id(1, 3), 7, 120);
    a.export_destroy(session_id(1, 4));
    a.export_destroy(session_id(1, 99));
    a.export_update(session_id(1, 98), 7, 120);
    a.flush(now);
    assert_eq!(pass(now, &mut a, &mut b), 1);
    let s = b.stats();
    assert_eq!(
        (s.ext_current, s.ext_created, s.ext_updated, s.ext_destroyed),
        (9, 10, 1, 1)
    );
    assert_eq!((s.ext_update_failed, s.ext_destroy_failed), (1, 1));
    let three = b.external(now).find(|r| r.id == session_id(1, 3)).unwrap();
    assert_eq!((three.state, three.timeout_secs), (7, 120));
    assert!(b.external(now).all(|r| r.id != session_id(1, 4)));
}

#[test]
fn corrupted_frames_are_rejected_and_counted() {
    for key in [None, Some("sekrit-key")] {
        let (mut a, mut b) = pair(key);
        a.export_new(&rec(1, 1, 60));
        a.flush(t(3000));
        let f = out(&mut a).remove(0);
        let before = b.stats();
        for bit in 0..f.len() * 8 {
            let mut g = f.clone();
            g[bit / 8] ^= 1 << (bit % 8);
            assert!(b.handle_datagram(t(3000), &g).is_err(), "bit {bit}");
        }
        let s = b.stats();
        let rejected = (s.bad_crc + s.malformed + s.bad_version + s.auth_failures)
            - (before.bad_crc + before.malformed + before.bad_version + before.auth_failures);
        assert_eq!(rejected as usize, f.len() * 8);
        assert_eq!(s.ext_current, 0);
        // the untouched frame is still good
        assert_eq!(b.handle_datagram(t(3000), &f), Ok(()));
        assert_eq!(b.stats().ext_current, 1);
    }
}

#[test]
fn truncated_frames_are_rejected() {
    let (mut a, mut b) = pair(Some("sekrit-key"));
    a.export_new(&rec(1, 1, 60));
    a.flush(t(3000));
    let f = out(&mut a).remove(0);
    for n in 0..f.len() {
        assert!(b.handle_datagram(t(3000), &f[..n]).is_err());
    }
    assert_eq!(b.stats().ext_current, 0);
}

#[test]
fn replayed_frames_are_rejected_and_counted() {
    // Unkeyed, and keyed: a replayed frame carries a valid MAC, so only
    // the sequence number (covered by the MAC) stops it.
    for key in [None, Some("sekrit-key")] {
        let (mut a, mut b) = pair(key);
        let base = b.stats();
        a.export_new(&rec(1, 1, 60));
        a.flush(t(3000));
        let first = out(&mut a).remove(0);
        assert_eq!(b.handle_datagram(t(3000), &first), Ok(()), "{key:?}");
        assert_eq!(b.handle_datagram(t(3000), &first), Err(RxError::Duplicate));
        a.export_destroy(session_id(1, 1));
        a.flush(t(3000));
        pass(t(3000), &mut a, &mut b);
        for c in 0..70 {
            a.export_new(&rec(1, 100 + c, 60));
            a.flush(t(3000));
        }
        pass(t(3000), &mut a, &mut b);
        // far behind the window now: still refused, and the destroyed session
        // does not come back
        assert_eq!(b.handle_datagram(t(3000), &first), Err(RxError::Replay));
        let s = b.stats();
        assert_eq!(
            (s.duplicates - base.duplicates, s.replays - base.replays),
            (1, 1),
            "{key:?}"
        );
        assert_eq!(s.auth_failures, base.auth_failures, "{key:?}");
        assert!(b.external(t(3000)).all(|r| r.id != session_id(1, 1)));
    }
}

#[test]
fn wrong_key_missing_and_unexpected_mac_are_rejected() {
    let mut frames = Vec::new();
    for key in [None, Some("key-one-1"), Some("key-two-2")] {
        let mut a = node(1, 1, key);
        a.handle_timeout(t(0));
        frames.push((key, out(&mut a).remove(0)));
    }
    for rx_key in [None, Some("key-one-1"), Some("key-two-2")] {
        let mut b = node(2, 2, rx_key);
        for (k, f) in &frames {
            let r = b.handle_datagram(t(0), f);
            if *k == rx_key {
                // passes the MAC (a keyed new peer then waits for its echo)
                let want = if k.is_some() {
                    Err(RxError::Unconfirmed)
                } else {
                    Ok(())
                };
                assert_eq!(r, want, "{k:?}");
            } else {
                assert_eq!(r, Err(RxError::Auth), "{k:?} into {rx_key:?}");
            }
        }
        assert_eq!(b.stats().auth_failures, 2);
    }
}

#[test]
fn unknown_message_kinds_are_skipped() {
    let mut b = node(2, 2, None);
    let mut buf = [0u8; 256];
    let mut n = frame::HEADER_LEN;
    n += msg::encode(&Message::New(rec(1, 5, 60)), 1, &mut buf[n..]).unwrap();
    buf[n..n + 4].copy_from_slice(&[99, 2, 0xab, 0xcd]);
    n += 4;
    n += msg::encode(
        &Message::Update {
            id: session_id(1, 5),
            state: 9,
            timeout_secs: 60,
        },
        1,
        &mut buf[n..],
    )
    .unwrap();
    let h = frame::Header {
        node: 1,
        count: 3,
        boot: 1,
        seq: 1,
    };
    let len = frame::seal(&mut buf, n, &h, None).unwrap();
    assert_eq!(b.handle_datagram(t(0), &buf[..len]), Ok(()));
    let s = b.stats();
    assert_eq!(
        (s.unknown_msgs, s.malformed, s.ext_created, s.ext_updated),
        (1, 0, 1, 1)
    );
    assert_eq!(b.external(t(0)).next().map(|r| r.state), Some(9));
}

#[test]
fn own_frames_looped_back_are_dropped() {
    let mut a = node(1, 1, None);
    a.handle_timeout(t(0));
    let f = out(&mut a).remove(0);
    assert_eq!(a.handle_datagram(t(0), &f), Err(RxError::Looped));
    assert_eq!(a.stats().looped, 1);
    assert_eq!(a.peers().count(), 0);
}

#[test]
fn a_lost_frame_is_nacked_and_resent_from_the_ring() {
    let (mut a, mut b) = pair(None);
    let now = t(3000);
    let mut frames = Vec::new();
    for c in 0..5 {
        a.export_new(&rec(1, c, 60));
        a.flush(now);
        frames.extend(out(&mut a));
    }
    for (i, f) in frames.iter().enumerate() {
        if i != 2 {
            assert_eq!(b.handle_datagram(now, f), Ok(()));
        }
    }
    assert_eq!(b.stats().lost, 1);
    b.flush(now);
    let nacks = out(&mut b);
    assert!(msgs(&nacks[0]).iter().any(|m| matches!(
        m,
        Message::Nack { to: 1, first, last, .. } if *first == seq_of(&frames[2]) && first == last
    )));
    for f in &nacks {
        a.handle_datagram(now, f).unwrap();
    }
    assert_eq!(a.stats().nack_recv, 1);
    assert_eq!(a.stats().resent, 1);
    let resent = out(&mut a);
    assert_eq!(resent, vec![frames[2].clone()], "exact bytes from the ring");
    assert_eq!(b.handle_datagram(now, &resent[0]), Ok(()));
    assert_eq!(b.stats().ext_current, 5);
    b.flush(now);
    assert!(out(&mut b).is_empty(), "no NACK pending");
    assert!(!a.wants_bulk());
}

#[test]
fn a_nack_beyond_the_ring_is_answered_with_a_bulk() {
    let (mut a, _) = pair(None);
    let now = t(3000);
    let bulks = a.stats().bulk_sent;
    // Push frame 1 of a's epoch out of the ring.
    for c in 0..(RING_FRAMES as u64 + 10) {
        a.export_destroy(session_id(1, c));
        a.flush(now);
        out(&mut a);
    }
    // node 3 asks for a frame that left the ring (sent after the last bulk)
    let gone = a.ring.range().unwrap().0 - 1;
    assert!(gone > a.last_bulk_begin.unwrap());
    let mut buf = [0u8; 128];
    let mut n = frame::HEADER_LEN;
    n += msg::encode(
        &Message::Nack {
            to: 1,
            boot: 0xa,
            first: gone,
            last: gone,
        },
        3,
        &mut buf[n..],
    )
    .unwrap();
    let h = frame::Header {
        node: 3,
        count: 1,
        boot: 3,
        seq: 1,
    };
    let len = frame::seal(&mut buf, n, &h, None).unwrap();
    a.handle_datagram(now, &buf[..len]).unwrap();
    assert!(a.wants_bulk());
    let table: Vec<SessionRecord> = (0..1200).map(|c| rec(1, c, 60)).collect();
    let mut steps = 0;
    while a.wants_bulk() {
        a.bulk_step(now, |cur| {
            let r = table.get(*cur as usize).copied();
            *cur += 1;
            r
        });
        steps += 1;
    }
    assert_eq!(steps, 1200 / BULK_PER_STEP + 1, "bounded per step");
    a.flush(now);
    let got: Vec<Message> = out(&mut a).iter().flat_map(|f| msgs(f)).collect();
    let news = got.iter().filter(|m| matches!(m, Message::New(_))).count();
    let begin = got.iter().position(|m| *m == Message::BulkBegin).unwrap();
    let end = got
        .iter()
        .position(|m| *m == Message::BulkEnd { count: 1200 })
        .unwrap();
    assert_eq!(end - begin - 1, 1200, "every session between begin and end");
    assert_eq!(news, 1200);
    assert_eq!(a.stats().bulk_sent, bulks + 1);
}

#[test]
fn a_keepalive_reveals_a_lost_tail() {
    let (mut a, mut b) = pair(None);
    a.export_new(&rec(1, 1, 60));
    a.flush(t(3000));
    let lost = out(&mut a);
    assert_eq!(lost.len(), 1);
    // nothing else to send until the next keepalive
    let ka = a.poll_timeout().unwrap();
    a.handle_timeout(ka);
    pass(ka, &mut a, &mut b);
    assert_eq!(b.stats().lost, 1);
    b.flush(ka);
    pass(ka, &mut b, &mut a);
    pass(ka, &mut a, &mut b);
    assert_eq!(b.stats().ext_current, 1);
}

#[test]
fn a_full_external_cache_is_counted() {
    let mut a = node(1, 1, None);
    let mut b = Sync::new(&cfg(None), 2, 2, 10, DEFAULT_MTU);
    for c in 0..15 {
        a.export_new(&rec(1, c, 60));
    }
    a.flush(t(0));
    pass(t(0), &mut a, &mut b);
    let s = b.stats();
    assert_eq!(
        (s.ext_current, s.ext_created, s.ext_create_failed),
        (10, 10, 5)
    );
}

#[test]
fn external_entries_expire_by_their_timeout() {
    let mut a = node(1, 1, None);
    let mut b = node(2, 2, None);
    a.export_new(&rec(1, 1, 5));
    a.export_new(&rec(1, 2, 50));
    a.flush(t(0));
    pass(t(0), &mut a, &mut b);
    assert!(b.poll_timeout().unwrap() <= t(5000));
    b.handle_timeout(t(5000));
    assert_eq!(b.stats().ext_expired, 1);
    // an update refreshes the other one
    a.export_update(session_id(1, 2), 3, 100);
    a.flush(t(6000));
    pass(t(6000), &mut a, &mut b);
    b.handle_timeout(t(60_000));
    assert_eq!(
        b.external(t(60_000))
            .map(|r| r.timeout_secs)
            .collect::<Vec<_>>(),
        vec![46]
    );
    b.handle_timeout(t(106_000));
    assert_eq!(b.stats().ext_current, 0);
    assert_eq!(b.stats().ext_expired, 2);
}

#[test]
fn drain_hands_over_the_external_cache() {
    let (mut a, mut b) = pair(None);
    for c in 0..20 {
        a.export_new(&rec(1, c, 100));
    }
    a.flush(t(3000));
    pass(t(3000), &mut a, &mut b);
    let mut got = Vec::new();
    assert_eq!(b.drain_external(t(13_000), |r| got.push(*r)), 20);
    got.sort_by_key(|r| r.id);
    assert_eq!(got, (0..20).map(|c| rec(1, c, 90)).collect::<Vec<_>>());
    assert_eq!(b.external_len(), 0);
}

#[test]
fn sequence_exhaustion_moves_to_a_new_epoch() {
    let (mut a, mut b) = pair(None);
    a.next_seq = u32::MAX - 1;
    for c in 0..4 {
        a.export_new(&rec(1, c, 60));
        a.flush(t(3000));
    }
    assert_eq!(a.boot_id(), 0xa + 1);
    let frames = out(&mut a);
    let seqs: Vec<u32> = frames.iter().map(|f| seq_of(f)).collect();
    assert_eq!(seqs, vec![u32::MAX - 1, u32::MAX, 0, 1]);
    for f in &frames {
        let _ = b.handle_datagram(t(3000), f);
    }
    // the jump from the old epoch's top is a gap in the old window, the new
    // epoch is a restart: b asks a for a resync
    assert_eq!(b.peers().next().unwrap().boot, Some(0xa + 1));
    assert!(matches!(b.resync_status(), ResyncStatus::Requested { .. }));
    assert_eq!(b.stats().ext_current, 4);
}

#[test]
fn with_a_key_a_restart_needs_a_fresh_echo_and_old_epochs_stay_refused() {
    let key = Some("sekrit-key");
    let (mut a, mut b) = pair(key);
    // a recorded frame of a's first epoch
    a.export_new(&rec(1, 1, 60));
    a.flush(t(3000));
    let old = out(&mut a).remove(0);
    b.handle_datagram(t(3000), &old).unwrap();

    // a restarts with a new boot id
    let mut a2 = node(1, 0xa2, key);
    a2.handle_timeout(t(3100));
    let unconfirmed = b.stats().unconfirmed;
    assert_eq!(pass(t(3100), &mut a2, &mut b), 0);
    assert_eq!(b.stats().unconfirmed, unconfirmed + 1);
    // b's keepalive echoes a2's frame; a2 confirms b's epoch, and a2's
    // next keepalive echoes b's recent frame: b confirms a2
    b.handle_timeout(b.poll_timeout().unwrap());
    pass(t(3500), &mut b, &mut a2);
    a2.handle_timeout(t(4100));
    assert!(pass(t(4100), &mut a2, &mut b) > 0);
    assert_eq!(b.peers().next().unwrap().boot, Some(0xa2));
    // the old epoch is retired: its frames are replays now
    assert_eq!(b.handle_datagram(t(4100), &old), Err(RxError::Replay));

    // a restarted b never saw a's old epoch, but the recorded frame's
    // echo is for b's previous boot: not fresh
    let mut b2 = node(2, 0xb2, key);
    b2.handle_timeout(t(5000));
    assert_eq!(b2.handle_datagram(t(5000), &old), Err(RxError::Unconfirmed));
    assert_eq!(b2.stats().ext_current, 0);
}

#[test]
fn without_a_key_a_restart_is_taken_at_once() {
    let (_, mut b) = pair(None);
    let mut a2 = node(1, 0xa2, None);
    a2.handle_timeout(t(3100));
    assert_eq!(pass(t(3100), &mut a2, &mut b), 1);
    assert_eq!(b.peers().next().unwrap().boot, Some(0xa2));
    assert!(matches!(b.resync_status(), ResyncStatus::Requested { .. }));
}

#[test]
fn keepalives_carry_vrrp_states_and_split_brain_is_seen() {
    let (mut a, mut b) = pair(None);
    a.set_vrrp_states(&[(51, VrrpState::Master), (52, VrrpState::Backup)]);
    b.set_vrrp_states(&[(51, VrrpState::Master), (52, VrrpState::Master)]);
    // a change goes out at the next flush, not at the next keepalive
    a.flush(t(3000));
    b.flush(t(3000));
    pass(t(3000), &mut a, &mut b);
    pass(t(3000), &mut b, &mut a);
    let p = b.peers().next().unwrap();
    assert_eq!(
        &p.vrrp[..],
        &[(51, VrrpState::Master), (52, VrrpState::Backup)]
    );
    assert_eq!(b.split_brain().collect::<Vec<_>>(), vec![(1, 51)]);
    assert_eq!(a.split_brain().collect::<Vec<_>>(), vec![(2, 51)]);
}

#[test]
fn a_silent_peer_goes_down_after_three_seconds() {
    let (_, mut b) = pair(None);
    let mut now = t(3000);
    while now < t(6000) {
        now = b.poll_timeout().unwrap();
        b.handle_timeout(now);
        out(&mut b);
    }
    assert!(!b.peers().next().unwrap().up);
}

#[test]
fn initial_resync_progress_is_reported() {
    let mut a = node(1, 1, None);
    let mut b = node(2, 2, None);
    a.handle_timeout(t(0));
    b.handle_timeout(t(0));
    pass(t(0), &mut b, &mut a); // b's request reaches a
    assert!(a.wants_bulk());
    let table: Vec<SessionRecord> = (0..700).map(|c| rec(1, c, 60)).collect();
    let mut walk = |cur: &mut u64| {
        let r = table.get(*cur as usize).copied();
        *cur += 1;
        r
    };
    a.bulk_step(t(10), &mut walk);
    a.flush(t(10));
    pass(t(10), &mut a, &mut b);
    assert_eq!(
        b.resync_status(),
        ResyncStatus::Receiving {
            since: t(0),
            sessions: BULK_PER_STEP as u32
        }
    );
    a.bulk_step(t(20), &mut walk);
    a.flush(t(20));
    pass(t(20), &mut a, &mut b);
    assert_eq!(
        b.resync_status(),
        ResyncStatus::Done {
            at: t(20),
            sessions: 700,
            duration: Duration::from_millis(20)
        }
    );
    assert_eq!(b.stats().bulk_recv, 1);
}

#[test]
fn a_bulk_sweeps_sessions_the_peer_no_longer_has() {
    let (mut a, mut b) = pair(None);
    for c in 0..10 {
        a.export_new(&rec(1, c, 60));
    }
    a.flush(t(3000));
    pass(t(3000), &mut a, &mut b);
    // b missed the destroys of 0..5 (say); a's bulk holds only 5..10
    b.request_resync(t(3000), 1);
    b.flush(t(3000));
    pass(t(3000), &mut b, &mut a);
    a.bulk_step(t(3000), |cur| {
        let r = (*cur < 5).then(|| rec(1, 5 + *cur, 60));
        *cur += 1;
        r
    });
    a.flush(t(3000));
    pass(t(3000), &mut a, &mut b);
    let mut ids: Vec<u64> = b.external(t(3000)).map(|r| r.id).collect();
    ids.sort();
    assert_eq!(ids, (5..10).map(|c| session_id(1, c)).collect::<Vec<_>>());
    assert_eq!(b.stats().ext_swept, 5);
}

/// Regression (chaos seed 4553): a peer heard for the first time while our
/// start-up request is still pending is asked at once, in the same turn,
/// not at the next retry (which the resync timeout may cancel).
#[test]
fn a_peer_that_joins_while_our_request_is_pending_is_asked_at_once() {
    let mut a = node(1, 7, None);
    let mut b = node(2, 9, None);
    // A starts alone: its first request goes nowhere.
    a.handle_timeout(t(0));
    out(&mut a);
    // 4.9 s later (retries at 1 s intervals, 0.1 s before the next) B
    // appears; A hears B's first frame.
    a.handle_timeout(t(4000));
    out(&mut a);
    b.handle_timeout(t(4900));
    for f in out(&mut b) {
        let _ = a.handle_datagram(t(4900), &f);
    }
    a.flush(t(4900));
    let asked = out(&mut a).iter().any(|f| {
        msgs(f)
            .iter()
            .any(|m| matches!(m, Message::ResyncRequest { .. }))
    });
    assert!(asked, "A asked B for its sessions as soon as it heard B");
}

#[test]
fn repeated_losses_beyond_the_window_ask_for_one_resync_per_retry_interval() {
    // Each delivered frame reveals a gap wider than the window (lost for
    // good). The first one asks for a bulk; the next ones, while that
    // request is pending, must not each send another request: retries
    // carry it once a second.
    let (mut a, mut b) = pair(None);
    let now = t(3000);
    let before = b.stats().resync_requests_sent;
    let mut delivered = 0;
    for c in 0..(20 * (WIDTH as u64 + 2)) {
        a.export_new(&rec(1, c, 60));
        a.flush(now);
        let frames = out(&mut a);
        if c % (WIDTH as u64 + 2) == 0 {
            for f in &frames {
                let _ = b.handle_datagram(now, f);
                delivered += 1;
            }
        }
    }
    assert!(delivered >= 20);
    assert!(
        b.stats().unrecovered >= 19,
        "unrecovered {}",
        b.stats().unrecovered
    );
    b.flush(now);
    let requests: usize = out(&mut b)
        .iter()
        .map(|f| {
            msgs(f)
                .iter()
                .filter(|m| matches!(m, Message::ResyncRequest { .. }))
                .count()
        })
        .sum();
    assert_eq!(requests, 1, "one request on the wire, not one per gap");
    assert_eq!(b.stats().resync_requests_sent - before, 1);
}
