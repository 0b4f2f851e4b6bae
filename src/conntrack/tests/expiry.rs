//! Expiry by deadline across timeout classes, refreshes, and eviction when full.

use super::*;

#[test]
fn expiry_follows_deadlines_across_classes_and_refreshes() {
    let t = ConntrackTimeouts {
        udp: 30,
        icmp: 10,
        tcp_syn_sent: 20,
        ..ConntrackTimeouts::default()
    };
    let mut ct = table_with(64, t);
    let none = NatFlags::default();
    let a = tuple(17, 1, 1);
    let b = tuple(1, 2, 2);
    let c = tuple(6, 3, 3);
    let d = tuple(17, 4, 4);
    let ia = ct.insert(at(0), a, a.reversed(), none, &other(a)).unwrap();
    ct.insert(at(0), b, b.reversed(), none, &echo(b, true))
        .unwrap();
    ct.insert(at(5), c, c.reversed(), none, &seg(c, F::SYN, 1, 0, 0))
        .unwrap();
    ct.insert(at(10), d, d.reversed(), none, &other(d)).unwrap();
    // Refreshing `a` at 25 moves its deadline from 30 to 55, behind `d`.
    ct.track(
        at(25) - Duration::from_secs(15),
        ia,
        Dir::Original,
        &other(a),
    );
    ct.track(at(25), ia, Dir::Original, &other(a));
    let mut order = Vec::new();
    while let Some(next) = ct.poll_timeout() {
        let before: Vec<_> = ct.iter().map(|(_, s)| s.orig()).collect();
        assert_eq!(ct.handle_timeout(next - Duration::from_millis(1)), 0);
        assert_eq!(ct.handle_timeout(next), 1, "one session per deadline here");
        let gone = before.into_iter().find(|t| ct.lookup(t).is_none()).unwrap();
        order.push((next.as_millis() / 1000, gone));
        ct.table.check();
    }
    assert_eq!(order, vec![(10, b), (25, c), (40, d), (55, a)]);
}

#[test]
fn full_table_evicts_a_non_assured_session_then_drops() {
    let mut ct = table(16);
    let none = NatFlags::default();
    let mut idxs = Vec::new();
    for port in 0..16 {
        let t = tuple(17, 1000 + port, 53);
        let i = ct.insert(at(1), t, t.reversed(), none, &other(t)).unwrap();
        if port != 7 {
            ct.track(at(2), i, Dir::Reply, &other(t.reversed()));
            ct.track(at(3), i, Dir::Original, &other(t));
            assert!(ct.get(i).unwrap().assured());
        }
        idxs.push(i);
    }
    let t = tuple(17, 2000, 53);
    let fresh = ct.insert(at(4), t, t.reversed(), none, &other(t)).unwrap();
    assert_eq!(
        ct.lookup(&tuple(17, 1007, 53)),
        None,
        "the unreplied one made room"
    );
    assert_eq!((ct.stats().evicted, ct.len()), (1, 16));
    ct.track(at(5), fresh, Dir::Reply, &other(t.reversed()));
    ct.track(at(6), fresh, Dir::Original, &other(t));

    let t = tuple(17, 2001, 53);
    let e = ct.insert(at(7), t, t.reversed(), none, &other(t));
    assert_eq!(e, Err(InsertError::Full));
    assert_eq!(
        (ct.stats().drop_full, ct.stats().evicted, ct.len()),
        (1, 1, 16)
    );
    ct.table.check();
}
