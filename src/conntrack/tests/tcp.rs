//! TCP tracking: handshake, teardown and TIME_WAIT, RST handling, which segments
//! may open a session, reopening on SYN, in-window checks, segment views.

use super::*;

#[test]
fn tcp_handshake_teardown_time_wait_and_expiry() {
    let mut ct = table(64);
    let t0 = at(1000);
    let mut c = Conn::open(&mut ct, t0, 40000);
    assert_eq!(
        c.send(&mut ct, t0, Dir::Reply, F::SYN | F::ACK, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "SYN_RECV");
    assert!(!ct.get(c.idx).unwrap().assured());
    assert_eq!(
        c.send(&mut ct, t0, Dir::Original, F::ACK, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "ESTABLISHED");
    let s = ct.get(c.idx).unwrap();
    assert!(s.assured() && s.seen_reply());
    assert_eq!(s.remaining(t0), Duration::from_secs(432_000));

    let t1 = at(1010);
    assert_eq!(
        c.send(&mut ct, t1, Dir::Original, F::ACK | F::PSH, 500),
        CtState::Established
    );
    assert_eq!(
        c.send(&mut ct, t1, Dir::Reply, F::ACK, 1400),
        CtState::Established
    );
    let s = ct.get(c.idx).unwrap();
    assert_eq!((s.packets(Dir::Original), s.packets(Dir::Reply)), (3, 2));
    assert_eq!((s.bytes(Dir::Original), s.bytes(Dir::Reply)), (620, 1480));

    for (dir, flags, state, timeout) in [
        (Dir::Original, F::FIN | F::ACK, "FIN_WAIT", 120),
        (Dir::Reply, F::ACK, "CLOSE_WAIT", 60),
        (Dir::Reply, F::FIN | F::ACK, "LAST_ACK", 30),
        (Dir::Original, F::ACK, "TIME_WAIT", 120),
    ] {
        assert_eq!(
            c.send(&mut ct, t1, dir, flags, 0),
            CtState::Established,
            "{state}"
        );
        assert_eq!(c.state(&ct), state);
        assert_eq!(
            ct.get(c.idx).unwrap().remaining(t1),
            Duration::from_secs(timeout)
        );
    }
    assert_eq!(ct.poll_timeout(), Some(at(1130)));
    assert_eq!(ct.handle_timeout(at(1129)), 0);
    assert_eq!(ct.handle_timeout(at(1130)), 1);
    assert_eq!(
        (ct.len(), ct.lookup(&c.orig), ct.poll_timeout()),
        (0, None, None)
    );
    assert_eq!(ct.stats().expired, 1);
    ct.table.check();
}

#[test]
fn blind_rst_is_ignored_and_counted_in_window_rst_closes() {
    let mut ct = table(64);
    let now = at(10);
    let mut c = Conn::handshake(&mut ct, now, 40000);
    let far = seg(c.reply, F::RST, c.next[1].wrapping_add(1 << 30), 0, 0);
    assert_eq!(ct.track(now, c.idx, Dir::Reply, &far), CtState::Invalid);
    let below = seg(
        c.reply,
        F::RST | F::ACK,
        c.next[1].wrapping_sub(100_000),
        c.next[0],
        0,
    );
    assert_eq!(ct.track(now, c.idx, Dir::Reply, &below), CtState::Invalid);
    assert_eq!(ct.stats().invalid_tcp_window, 2);
    assert_eq!(c.state(&ct), "ESTABLISHED");
    assert_eq!(ct.get(c.idx).unwrap().packets(Dir::Reply), 1, "not counted");

    assert_eq!(
        c.send(&mut ct, at(11), Dir::Reply, F::RST, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "CLOSE");
    assert_eq!(
        ct.get(c.idx).unwrap().remaining(at(11)),
        Duration::from_secs(10)
    );
    assert_eq!(ct.handle_timeout(at(21)), 1);
}

#[test]
fn rst_answering_a_syn_expires_the_session_at_once() {
    let mut ct = table(64);
    let mut c = Conn::open(&mut ct, at(5), 40000);
    assert_eq!(
        c.send(&mut ct, at(5), Dir::Reply, F::RST | F::ACK, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "CLOSE");
    assert_eq!(ct.poll_timeout(), Some(at(5)));
    assert_eq!(ct.handle_timeout(at(5)), 1);
    ct.table.check();
}

#[test]
fn only_a_plain_syn_may_open_a_tcp_session() {
    let t = tuple(6, 40000, 80);
    for (flags, ok) in [
        (F::SYN, true),
        (F::ACK, false),
        (F::ACK | F::PSH, false),
        (F::SYN | F::ACK, false),
        (F::FIN | F::ACK, false),
        (F::RST, false),
    ] {
        assert_eq!(
            Conntrack::may_create(&seg(t, flags, 1, 1, 0)),
            ok,
            "{flags:#x}"
        );
    }
    let mut ct = table(16);
    let mid = seg(t, F::ACK, 1, 1, 100);
    let e = ct.insert(at(1), t, t.reversed(), NatFlags::default(), &mid);
    assert_eq!(e, Err(InsertError::NotNew));
    assert_eq!((ct.stats().drop_not_new, ct.len()), (1, 0));
    assert!(!Conntrack::may_create(&other(t)), "TCP without its header");

    let i = tuple(1, 77, 77);
    assert!(Conntrack::may_create(&echo(i, true)));
    assert!(!Conntrack::may_create(&echo(i, false)));
    assert!(!Conntrack::may_create(&other(i)), "ICMP errors are RELATED");
    assert!(Conntrack::may_create(&other(tuple(17, 5353, 53))));
    assert!(Conntrack::may_create(&other(tuple(47, 0, 0))));
}

#[test]
fn syn_on_time_wait_reopens_in_place() {
    let mut ct = table(64);
    let now = at(50);
    let mut c = Conn::handshake(&mut ct, now, 40000);
    for (dir, flags) in [
        (Dir::Original, F::FIN | F::ACK),
        (Dir::Reply, F::FIN | F::ACK),
        (Dir::Original, F::ACK),
    ] {
        c.send(&mut ct, now, dir, flags, 0);
    }
    assert_eq!(c.state(&ct), "TIME_WAIT");
    let id = ct.get(c.idx).unwrap().id();

    // The server may not reopen it.
    let back = seg(c.reply, F::SYN, 9, 0, 0);
    assert_eq!(ct.track(now, c.idx, Dir::Reply, &back), CtState::Invalid);
    assert_eq!(ct.stats().invalid_tcp_state, 1);

    // The client reopens with a new ISN: a new connection on the same tuple.
    let syn = seg(c.orig, F::SYN, 90_000, 0, 0);
    assert_eq!(ct.track(at(51), c.idx, Dir::Original, &syn), CtState::New);
    let s = ct.get(c.idx).unwrap();
    assert_eq!(
        (s.state_name(), s.id(), s.assured()),
        ("SYN_SENT", id, false)
    );
    assert_eq!(s.remaining(at(51)), Duration::from_secs(120));
    assert_eq!(ct.stats().reopened, 1);
    c.next = [90_001, 7000];
    assert_eq!(
        c.send(&mut ct, at(51), Dir::Reply, F::SYN | F::ACK, 0),
        CtState::Established
    );
    assert_eq!(
        c.send(&mut ct, at(51), Dir::Original, F::ACK, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "ESTABLISHED");
    ct.table.check();
}

#[test]
fn tcp_segments_that_fit_no_transition() {
    let mut ct = table(64);
    let now = at(1);
    let mut c = Conn::open(&mut ct, now, 40000);
    // ACK from the client before any SYN/ACK; FIN in SYN_SENT.
    assert_eq!(
        c.send(&mut ct, now, Dir::Original, F::ACK, 0),
        CtState::Invalid
    );
    assert_eq!(
        c.send(&mut ct, now, Dir::Original, F::FIN | F::ACK, 0),
        CtState::Invalid
    );
    assert_eq!(
        c.send(&mut ct, now, Dir::Original, F::SYN | F::FIN, 0),
        CtState::Invalid
    );
    let s = ct.stats();
    assert_eq!((s.invalid_tcp_state, s.invalid_tcp_flags), (2, 1));
    // A retransmitted SYN is fine; a SYN on an established session passes
    // without touching it.
    let syn = seg(c.orig, F::SYN, 1000, 0, 0);
    assert_eq!(
        ct.track(now, c.idx, Dir::Original, &syn),
        CtState::Established
    );
    c.send(&mut ct, now, Dir::Reply, F::SYN | F::ACK, 0);
    c.send(&mut ct, now, Dir::Original, F::ACK, 0);
    assert_eq!(
        ct.track(now, c.idx, Dir::Original, &syn),
        CtState::Established
    );
    assert_eq!((c.state(&ct), ct.stats().tcp_ignored), ("ESTABLISHED", 1));
    // A UDP-shaped packet on a TCP session.
    assert_eq!(
        ct.track(now, c.idx, Dir::Original, &other(c.orig)),
        CtState::Invalid
    );
    assert_eq!(ct.stats().invalid_proto, 1);
}

#[test]
fn tcp_info_from_a_segment_view() {
    let b = [
        0x9c, 0x40, 0x00, 0x50, // 40000 -> 80
        0x00, 0x00, 0x03, 0xe8, // seq 1000
        0x00, 0x00, 0x00, 0x00, // ack
        0x60, 0x02, 0xff, 0xff, // offset 6, SYN, window 65535
        0x00, 0x00, 0x00, 0x00, // checksum, urgent
        0x03, 0x03, 0x07, 0x00, // wscale 7, end
        0xaa, 0xbb, // 2 payload bytes
    ];
    let p = TcpPacket::new_checked(&b[..]).unwrap();
    let t = TcpInfo::from_segment(&p);
    assert_eq!(
        t,
        TcpInfo {
            flags: F::SYN,
            seq: SeqNumber(1000),
            ack: SeqNumber(0),
            window: 65535,
            wscale: Some(7),
            payload_len: 2,
        }
    );
}
