//! The conntrack-sync hooks: change reporting, bounds, synced sessions keeping
//! their ids and deadlines, and liberal TCP tracking of synced sessions.

use super::*;

/// Everything `drain_changes` reports, as comparable values.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    New(u64, &'static str),
    Update(u64, &'static str),
    Destroy(u64),
}

fn drain(ct: &mut Conntrack, max: usize) -> Vec<Seen> {
    let mut v = Vec::new();
    ct.drain_changes(max, |c| {
        v.push(match c {
            Change::New(s) => Seen::New(s.id(), s.state_name()),
            Change::Update(s) => Seen::Update(s.id(), s.state_name()),
            Change::Destroy(id) => Seen::Destroy(id),
        })
    });
    v
}

#[test]
fn sync_hooks_report_new_once_then_state_changes_and_large_refreshes() {
    let t = ConntrackTimeouts {
        udp: 30,
        udp_stream: 120,
        ..ConntrackTimeouts::default()
    };
    let mut ct = table_with(64, t);
    let orig = tuple(17, 5000, 53);
    let idx = ct
        .insert(
            at(0),
            orig,
            orig.reversed(),
            NatFlags::default(),
            &other(orig),
        )
        .unwrap();
    let id = ct.get(idx).unwrap().id();
    ct.track(at(1), idx, Dir::Original, &other(orig));
    assert_eq!(drain(&mut ct, 10), vec![Seen::New(id, "UNREPLIED")]);
    assert_eq!(drain(&mut ct, 10), vec![]);
    ct.track(at(2), idx, Dir::Original, &other(orig));
    assert_eq!(
        drain(&mut ct, 10),
        vec![],
        "a small refresh is not reported"
    );
    ct.track(at(3), idx, Dir::Reply, &other(orig.reversed()));
    ct.track(at(3), idx, Dir::Original, &other(orig));
    assert_eq!(
        drain(&mut ct, 10),
        vec![Seen::Update(id, "ASSURED")],
        "coalesced"
    );

    // udp_stream is 120 s: refreshes are reported once the deadline moved
    // more than 30 s since the last report (123 at 3 s).
    ct.track(at(20), idx, Dir::Original, &other(orig));
    ct.track(at(33), idx, Dir::Original, &other(orig));
    assert_eq!(drain(&mut ct, 10), vec![]);
    ct.track(at(34), idx, Dir::Original, &other(orig));
    assert_eq!(drain(&mut ct, 10), vec![Seen::Update(id, "ASSURED")]);

    assert!(ct.remove(idx));
    assert!(!ct.remove(idx));
    assert_eq!(drain(&mut ct, 10), vec![Seen::Destroy(id)]);
    assert_eq!(ct.stats().removed, 1);

    // Removed before it was ever reported: nothing at all.
    let i = ct
        .insert(
            at(40),
            orig,
            orig.reversed(),
            NatFlags::default(),
            &other(orig),
        )
        .unwrap();
    ct.remove(i);
    assert_eq!((drain(&mut ct, 10), ct.pending_changes()), (vec![], 0));
}

#[test]
fn sync_hooks_are_bounded_and_follow_slot_reuse() {
    let mut ct = table(1);
    let a = tuple(17, 1, 1);
    let b = tuple(17, 2, 2);
    let none = NatFlags::default();
    let ia = ct.insert(at(0), a, a.reversed(), none, &other(a)).unwrap();
    assert_eq!(
        drain(&mut ct, 10),
        vec![Seen::New(1 << 48 | 1, "UNREPLIED")]
    );
    ct.track(at(1), ia, Dir::Reply, &other(a.reversed()));
    // Pending Update for `a`, then `a` is evicted for `b` in the same slot.
    let ib = ct.insert(at(2), b, b.reversed(), none, &other(b)).unwrap();
    assert_eq!(ia, ib);
    assert_eq!(
        drain(&mut ct, 10),
        vec![
            Seen::Destroy(1 << 48 | 1),
            Seen::New(1 << 48 | 2, "UNREPLIED")
        ]
    );

    let mut ct = table(64);
    for p in 0..5 {
        let t = tuple(17, p, p);
        ct.insert(at(0), t, t.reversed(), none, &other(t)).unwrap();
    }
    assert_eq!(drain(&mut ct, 2).len(), 2);
    assert_eq!(ct.pending_changes(), 3);
    assert_eq!(drain(&mut ct, 10).len(), 3);
}

fn synced(orig: Tuple, remaining_secs: u32) -> SyncedSession {
    SyncedSession {
        id: 2 << 48 | 77,
        orig,
        reply: snat(orig, 61000),
        nat: NatFlags {
            snat: true,
            dnat: false,
        },
        tcp_state: None,
        seen_reply: true,
        assured: true,
        remaining_secs,
        tcp_wscale: [0; 2],
    }
}

#[test]
fn synced_sessions_keep_their_id_and_are_not_reported_back() {
    let mut ct = table(64);
    let orig = tuple(17, 5000, 53);
    let rec = synced(orig, 100);
    let idx = ct.insert_synced(at(10), &rec).unwrap();
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.id(), s.from_sync(), s.state_name()),
        (rec.id, true, "ASSURED")
    );
    assert_eq!(s.remaining(at(10)).as_secs(), 100);
    assert_eq!(SyncedSession::of(s, at(10)), rec);
    assert_eq!(ct.lookup(&rec.reply), Some((idx, Dir::Reply)));
    assert_eq!(drain(&mut ct, 10), vec![]);

    // A clash with it, from sync or locally.
    let again = SyncedSession { id: 5, ..rec };
    assert_eq!(ct.insert_synced(at(10), &again), Err(InsertError::Conflict));
    assert_eq!(ct.stats().sync_conflict, 1);
    let local = ct.insert(
        at(10),
        orig,
        orig.reversed(),
        NatFlags::default(),
        &other(orig),
    );
    assert_eq!(local, Err(InsertError::Exists));
    let bad = SyncedSession {
        orig: tuple(6, 1, 1),
        reply: tuple(6, 1, 1).reversed(),
        ..rec
    };
    assert_eq!(ct.insert_synced(at(10), &bad), Err(InsertError::Invalid));

    // Later changes here are reported like any other session's.
    ct.track(at(80), idx, Dir::Original, &other(orig));
    assert_eq!(drain(&mut ct, 10), vec![Seen::Update(rec.id, "ASSURED")]);
    ct.remove(idx);
    assert_eq!(drain(&mut ct, 10), vec![Seen::Destroy(rec.id)]);
    assert_eq!(ct.stats().synced, 1);
}

#[test]
fn synced_deadlines_expire_on_time_in_any_insert_order() {
    let t = ConntrackTimeouts {
        udp_stream: 300,
        ..ConntrackTimeouts::default()
    };
    let mut ct = table_with(512, t);
    // Remaining times 1..=200 in a scrambled order, plus one above the
    // local timeout (capped) and a local session in between.
    let mut rem: Vec<u32> = (1..=200).map(|i| (i * 73) % 200 + 1).collect();
    rem.push(1000);
    for (n, r) in rem.iter().enumerate() {
        let orig = tuple(17, n as u16, 9);
        let rec = SyncedSession {
            id: n as u64,
            reply: snat(orig, 30000 + n as u16),
            ..synced(orig, *r)
        };
        ct.insert_synced(at(0), &rec).unwrap();
    }
    let l = tuple(17, 60000, 9);
    ct.insert(at(0), l, l.reversed(), NatFlags::default(), &other(l))
        .unwrap();
    assert!(ct.stats().sync_unordered > 0, "the fallback path ran");
    assert_eq!(ct.poll_timeout(), Some(at(1)));
    for now in 1..=300u32 {
        let due = ct
            .iter()
            .filter(|(_, s)| s.expires() <= at(now.into()))
            .count();
        assert!(due <= 1 || now == 30, "nothing overdue at {now}");
        assert_eq!(ct.handle_timeout(at(now.into())), due, "at {now}");
        if now == 1 {
            ct.table.check();
        }
    }
    assert!(ct.is_empty(), "the capped one went at 300");
}

/// A table holding one ESTABLISHED TCP session learned from sync
/// (window scale 7 both ways): (table, original tuple, record, slot).
fn synced_established() -> (Conntrack, Tuple, SyncedSession, SessionIdx) {
    let mut ct = table(64);
    let orig = tuple(6, 40000, 443);
    let rec = SyncedSession {
        tcp_state: Some(TcpState::Established),
        tcp_wscale: [7, 7],
        ..synced(orig, 3600)
    };
    let idx = ct.insert_synced(at(0), &rec).unwrap();
    (ct, orig, rec, idx)
}

#[test]
fn synced_tcp_is_liberal_until_both_directions_were_seen() {
    let (mut ct, orig, rec, idx) = synced_established();
    assert_eq!(ct.get(idx).unwrap().tcp_wscale(), [7, 7]);
    // Mid-stream: whatever sequence numbers the endpoints are at.
    let c2s = seg(orig, F::ACK, 1_000_000, 2_000_000, 100);
    assert_eq!(
        ct.track(at(1), idx, Dir::Original, &c2s),
        CtState::Established
    );
    // The server acknowledges data sent before the failover that this
    // router never saw, more than a window of it: out of window, let
    // through while liberal (up to a window is simply accepted, see
    // `synced_tcp_accepts_acks_of_data_the_peer_carried`).
    let s2c = seg(rec.reply, F::ACK, 2_000_000, 1_500_100, 100);
    assert_eq!(ct.track(at(1), idx, Dir::Reply, &s2c), CtState::Established);
    assert_eq!(ct.stats().tcp_liberal, 1);
    // Both directions seen: strict from now on.
    let ok = seg(orig, F::ACK, 1_000_500, 2_000_100, 100);
    assert_eq!(
        ct.track(at(2), idx, Dir::Original, &ok),
        CtState::Established
    );
    let blind = seg(rec.reply, F::RST, 3_000_000_000, 0, 0);
    assert_eq!(ct.track(at(2), idx, Dir::Reply, &blind), CtState::Invalid);
    assert_eq!(ct.stats().invalid_tcp_window, 1);
    assert_eq!(ct.get(idx).unwrap().state_name(), "ESTABLISHED");
}

/// Around a takeover both routers forward for a moment, so the new master
/// sees ACKs of data that went through the other one; each such ACK must
/// pass and move the data sender's end, or every later ACK is out of
/// window and the connection wedges (found by tests/netns_faults.rs: the
/// master's LAN link down and back during a download).
#[test]
fn synced_tcp_accepts_acks_of_data_the_peer_carried() {
    let (mut ct, orig, rec, idx) = synced_established();
    // The server's data (1000 bytes at 2_000_000) and the client's ACKs.
    let data = |seq| seg(rec.reply, F::ACK | F::PSH, seq, 1_000_000, 1000);
    let ack = |a| seg(orig, F::ACK, 1_000_000, a, 0);
    assert_eq!(
        ct.track(at(1), idx, Dir::Reply, &data(2_000_000)),
        CtState::Established
    );
    assert_eq!(
        ct.track(at(1), idx, Dir::Original, &ack(2_001_000)),
        CtState::Established
    );
    // The next 20 segments went through the other router; their ACKs
    // come here, then the data too.
    for k in 1..=20u32 {
        let a = 2_001_000 + k * 1000;
        assert_eq!(
            ct.track(at(2), idx, Dir::Original, &ack(a)),
            CtState::Established,
            "ack {k}"
        );
    }
    assert_eq!(
        ct.track(at(2), idx, Dir::Reply, &data(2_021_000)),
        CtState::Established
    );
    assert_eq!(
        ct.track(at(2), idx, Dir::Original, &ack(2_022_000)),
        CtState::Established
    );
    assert_eq!(ct.stats().invalid_tcp_window, 0);
    // Not more than a window beyond.
    assert_eq!(
        ct.track(at(3), idx, Dir::Original, &ack(12_000_000)),
        CtState::Invalid
    );
    assert_eq!(ct.stats().invalid_tcp_window, 1);
}
