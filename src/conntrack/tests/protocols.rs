//! UDP, ICMP echo and the generic (address-pair) tracking with their timeouts.

use super::*;

#[test]
fn udp_unreplied_replied_assured() {
    let t = ConntrackTimeouts {
        udp: 30,
        udp_stream: 180,
        ..ConntrackTimeouts::default()
    };
    let mut ct = table_with(64, t);
    let orig = tuple(17, 5000, 53);
    let reply = snat(orig, 61000);
    let idx = ct
        .insert(at(0), orig, reply, NatFlags::default(), &other(orig))
        .unwrap();
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.state_name(), s.remaining(at(0)).as_secs()),
        ("UNREPLIED", 30)
    );
    assert_eq!(
        ct.track(at(10), idx, Dir::Original, &other(orig)),
        CtState::Established
    );
    assert_eq!(ct.get(idx).unwrap().remaining(at(10)).as_secs(), 30);
    assert_eq!(
        ct.track(at(11), idx, Dir::Reply, &other(reply)),
        CtState::Established
    );
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.state_name(), s.remaining(at(11)).as_secs()),
        ("REPLIED", 30)
    );
    ct.track(at(12), idx, Dir::Original, &other(orig));
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.state_name(), s.remaining(at(12)).as_secs()),
        ("ASSURED", 180)
    );
    assert!(s.assured());
    assert_eq!(ct.handle_timeout(at(191)), 0);
    assert_eq!(ct.handle_timeout(at(192)), 1);

    // A query never answered expires after the udp timeout.
    let q = tuple(17, 5001, 53);
    ct.insert(at(200), q, q.reversed(), NatFlags::default(), &other(q))
        .unwrap();
    assert_eq!(ct.poll_timeout(), Some(at(230)));
    assert_eq!(ct.handle_timeout(at(230)), 1);
}

#[test]
fn icmp_echo_request_creates_reply_matches() {
    let mut ct = table(64);
    let req = tuple(1, 0x1234, 0x1234);
    let idx = ct
        .insert(
            at(0),
            req,
            req.reversed(),
            NatFlags::default(),
            &echo(req, true),
        )
        .unwrap();
    let (found, dir) = ct.lookup(&req.reversed()).unwrap();
    assert_eq!((found, dir), (idx, Dir::Reply));
    assert_eq!(
        ct.track(at(1), idx, dir, &echo(req.reversed(), false)),
        CtState::Established
    );
    ct.track(at(2), idx, Dir::Original, &echo(req, true));
    let s = ct.get(idx).unwrap();
    assert_eq!(s.state_name(), "REPLIED", "echo sessions are never assured");
    assert_eq!(s.remaining(at(2)).as_secs(), 30);
    let udp_like = other(req);
    assert_eq!(
        ct.track(at(2), idx, Dir::Original, &udp_like),
        CtState::Invalid
    );
    assert_eq!(ct.handle_timeout(at(32)), 1);
}

#[test]
fn other_protocols_by_address_pair_with_the_generic_timeout() {
    let mut ct = table(64);
    let gre = Tuple::new(47, CLIENT, 0, SERVER, 0);
    let idx = ct
        .insert(at(0), gre, gre.reversed(), NatFlags::default(), &other(gre))
        .unwrap();
    assert_eq!(ct.get(idx).unwrap().remaining(at(0)).as_secs(), 600);
    ct.track(at(1), idx, Dir::Reply, &other(gre.reversed()));
    ct.track(at(2), idx, Dir::Original, &other(gre));
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.state_name(), s.remaining(at(2)).as_secs()),
        ("ASSURED", 600)
    );
}
