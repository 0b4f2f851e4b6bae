//! Tests of `wire::rewrite`: incremental updates against checksums
//! recomputed from scratch (fixed and random packets), UDP's zero checksum,
//! ICMP echo ids and quoted packets in errors, errors leaving the packet
//! untouched, the one-pass rewrite against the one-at-a-time one, and
//! finishing partial (offload) checksums.

use super::*;
use crate::wire::checksum;
use crate::wire::icmp::{IcmpPacket, IcmpRepr};
use crate::wire::ipv4::Ipv4Repr;
use crate::wire::tcp::TcpPacket;
use crate::wire::udp::{UdpPacket, UdpRepr};

const A: Ipv4Addr = Ipv4Addr::new(192, 168, 11, 31);
const S: Ipv4Addr = Ipv4Addr::new(216, 134, 160, 13);
const T: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 5);

fn ip_packet(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 20 + l4.len()];
    let r = Ipv4Repr::new(src, dst, proto, l4.len());
    r.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
    b[20..].copy_from_slice(l4);
    b
}

fn udp(src: Ipv4Addr, dst: Ipv4Addr, sp: u16, dp: u16, data: &[u8]) -> Vec<u8> {
    let mut l4 = vec![0u8; 8 + data.len()];
    l4[8..].copy_from_slice(data);
    let r = UdpRepr {
        src_port: sp,
        dst_port: dp,
        payload_len: data.len(),
    };
    assert!(r.emit(&mut UdpPacket::new_unchecked(&mut l4[..]), src, dst));
    ip_packet(src, dst, protocol::UDP, &l4)
}

fn tcp(src: Ipv4Addr, dst: Ipv4Addr, sp: u16, dp: u16, data: &[u8]) -> Vec<u8> {
    let mut l4 = vec![0u8; 20 + data.len()];
    l4[20..].copy_from_slice(data);
    {
        let mut t = TcpPacket::new_unchecked(&mut l4[..]);
        t.set_src_port(sp);
        t.set_dst_port(dp);
        t.set_seq_number(0x0102_0304);
        t.set_header_len(20);
        t.set_flags(0x18);
        t.set_window_len(502);
        t.fill_checksum(src, dst);
    }
    ip_packet(src, dst, protocol::TCP, &l4)
}

fn l4_ok(b: &[u8]) -> bool {
    let p = Ipv4Packet::new_checked(b).unwrap();
    let (s, d) = (p.src_addr(), p.dst_addr());
    p.verify_checksum()
        && match p.protocol() {
            protocol::TCP => TcpPacket::new_checked(p.payload())
                .unwrap()
                .verify_checksum(s, d),
            protocol::UDP => UdpPacket::new_checked(p.payload())
                .unwrap()
                .verify_checksum(s, d),
            _ => checksum::verify(p.payload()),
        }
}

#[test]
fn snat_udp_and_tcp_match_recompute() {
    for mk in [udp, tcp] {
        let mut b = mk(A, S, 47284, 53, b"query bytes");
        rewrite_ipv4(&mut b, Side::Src, T, Some(1024)).unwrap();
        let want = mk(T, S, 1024, 53, b"query bytes");
        assert_eq!(b, want);
        // And back (de-NAT of the reply direction is the same surgery).
        rewrite_ipv4(&mut b, Side::Src, A, Some(47284)).unwrap();
        assert_eq!(b, mk(A, S, 47284, 53, b"query bytes"));
        rewrite_ipv4(&mut b, Side::Dst, T, Some(8053)).unwrap();
        assert_eq!(b, mk(A, T, 47284, 8053, b"query bytes"));
        // Address only.
        rewrite_ipv4(&mut b, Side::Dst, S, None).unwrap();
        assert_eq!(b, mk(A, S, 47284, 8053, b"query bytes"));
    }
}

#[test]
fn udp_zero_checksum_stays_zero() {
    let mut b = udp(A, S, 1, 2, b"x");
    b[26] = 0;
    b[27] = 0;
    rewrite_ipv4(&mut b, Side::Src, T, Some(9)).unwrap();
    assert_eq!(&b[26..28], &[0, 0]);
    assert!(Ipv4Packet::new_checked(&b[..]).unwrap().verify_checksum());
    assert_eq!(&b[20..22], &[0, 9]);
}

#[test]
fn icmp_echo_identifier() {
    let mut l4 = vec![8u8, 0, 0, 0, 0x12, 0x34, 0, 1, 0xaa, 0xbb];
    let c = checksum::checksum(&l4);
    l4[2..4].copy_from_slice(&c.to_be_bytes());
    let mut b = ip_packet(A, S, protocol::ICMP, &l4);
    rewrite_ipv4(&mut b, Side::Src, T, Some(0x4321)).unwrap();
    assert!(l4_ok(&b));
    let p = Ipv4Packet::new_checked(&b[..]).unwrap();
    assert_eq!(p.src_addr(), T);
    let r = IcmpRepr::parse(&IcmpPacket::new_checked(p.payload()).unwrap()).unwrap();
    assert_eq!(
        r,
        IcmpRepr::EchoRequest {
            ident: 0x4321,
            seq_no: 1,
            data: &[0xaa, 0xbb]
        }
    );
}

#[test]
fn errors_leave_packet_untouched() {
    let mut b = tcp(A, S, 1, 2, b"");
    b.truncate(20 + 19);
    b[3] = 39;
    let fixed = {
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.fill_checksum();
        b.clone()
    };
    assert_eq!(
        rewrite_ipv4(&mut b, Side::Src, T, Some(5)),
        Err(Error::Truncated)
    );
    assert_eq!(b, fixed);
    let mut junk = vec![0x45u8, 0, 0, 10];
    assert!(rewrite_ipv4(&mut junk, Side::Src, T, None).is_err());
    assert_eq!(junk, vec![0x45u8, 0, 0, 10]);
    // A non-first fragment: address only, L4 bytes untouched.
    let mut f = udp(A, S, 1, 2, b"abcdefgh");
    {
        let mut p = Ipv4Packet::new_checked(&mut f[..]).unwrap();
        p.set_flags_and_offset(false, false, 1);
        p.fill_checksum();
    }
    let l4_before = f[20..].to_vec();
    rewrite_ipv4(&mut f, Side::Src, T, Some(7)).unwrap();
    assert_eq!(&f[20..], &l4_before[..]);
    assert!(Ipv4Packet::new_checked(&f[..]).unwrap().verify_checksum());
}

/// An ICMP error from router R about `quoted` (first `quote` bytes).
fn icmp_error(r: Ipv4Addr, to: Ipv4Addr, quoted: &[u8], quote: usize) -> Vec<u8> {
    let inv = &quoted[..quote.min(quoted.len())];
    let msg = IcmpRepr::TimeExceeded {
        code: 0,
        invoking: inv,
    };
    let mut l4 = vec![0u8; msg.buffer_len()];
    assert!(msg.emit(&mut IcmpPacket::new_unchecked(&mut l4[..])));
    ip_packet(r, to, protocol::ICMP, &l4)
}

#[test]
fn icmp_error_inner_matches_untranslated_original() {
    let r = Ipv4Addr::new(198, 51, 100, 1);
    for mk in [udp, tcp] {
        for quote in [28usize, 40, 60, 1000] {
            // The router saw the translated packet T:1024 -> S:53.
            let seen = mk(T, S, 1024, 53, b"0123456789abcdefghij");
            let mut err = icmp_error(r, T, &seen, quote);
            // De-NAT: outer dst T -> A, quoted src T:1024 -> A:47284.
            rewrite_ipv4(&mut err, Side::Dst, A, None).unwrap();
            rewrite_icmp_inner(&mut err, Side::Src, A, Some(47284)).unwrap();
            // Same bytes as an error about the untranslated original.
            let orig = mk(A, S, 47284, 53, b"0123456789abcdefghij");
            let want = icmp_error(r, A, &orig, quote);
            assert_eq!(err, want, "quote {quote}");
            assert!(l4_ok(&err));
        }
    }
}

#[test]
fn icmp_inner_rejects_non_errors() {
    let mut b = udp(A, S, 1, 2, b"x");
    assert_eq!(
        rewrite_icmp_inner(&mut b, Side::Src, T, None),
        Err(Error::Unsupported)
    );
    let mut l4 = vec![8u8, 0, 0, 0, 0, 1, 0, 1];
    let c = checksum::checksum(&l4);
    l4[2..4].copy_from_slice(&c.to_be_bytes());
    let mut e = ip_packet(A, S, protocol::ICMP, &l4);
    assert_eq!(
        rewrite_icmp_inner(&mut e, Side::Src, T, None),
        Err(Error::Unsupported)
    );
    // Garbage quote.
    let mut g = ip_packet(A, S, protocol::ICMP, &[11, 0, 0, 0, 0, 0, 0, 0, 0x45, 0, 0]);
    let before = g.clone();
    assert!(rewrite_icmp_inner(&mut g, Side::Src, T, None).is_err());
    assert_eq!(g, before);
}

#[test]
fn random_rewrites_match_recompute() {
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..5000 {
        let a = Ipv4Addr::from(next() as u32);
        let s = Ipv4Addr::from(next() as u32);
        let t = Ipv4Addr::from(next() as u32);
        let (p1, p2, p3) = (next() as u16, next() as u16, next() as u16);
        let data: Vec<u8> = (0..(next() % 40)).map(|_| next() as u8).collect();
        let mk = if i % 2 == 0 { udp } else { tcp };
        let mut b = mk(a, s, p1, p2, &data);
        let side = if next() % 2 == 0 {
            Side::Src
        } else {
            Side::Dst
        };
        rewrite_ipv4(&mut b, side, t, Some(p3)).unwrap();
        let want = match side {
            Side::Src => mk(t, s, p3, p2, &data),
            Side::Dst => mk(a, t, p1, p3, &data),
        };
        // One's complement has two zeros: compare by verification,
        // and bytes everywhere except the checksum fields.
        assert!(l4_ok(&b), "case {i}");
        let ck = if i % 2 == 0 { 26..28 } else { 36..38 };
        let mut x = b.clone();
        let mut y = want.clone();
        for r in [10..12, ck] {
            x[r.clone()].fill(0);
            y[r].fill(0);
        }
        assert_eq!(x, y, "case {i}");
    }
}

/// The one-pass rewrite writes exactly what `rewrite_ipv4` (src, then
/// dst) and `decrement_ttl` write one at a time, for every protocol
/// layout, fragments, zero UDP checksums, arbitrary checksum values
/// (both ones'-complement zeros) and packets too short to rewrite.
#[test]
fn rewrite_ends_matches_one_at_a_time() {
    let mut rng = crate::rng::XorShift64Star::new(0x0bad_cafe_1234_5678);
    let mut next = || rng.next_u64();
    let protos = [protocol::TCP, protocol::UDP, protocol::ICMP, 47];
    for i in 0..20_000 {
        let proto = protos[i % 4];
        let l4_len = (next() % 44) as usize;
        let mut l4: Vec<u8> = (0..l4_len).map(|_| next() as u8).collect();
        if proto == protocol::ICMP && !l4.is_empty() && next() % 2 == 0 {
            l4[0] = if next() % 2 == 0 { 8 } else { 0 };
        }
        let mut b = ip_packet(A, S, proto, &l4);
        b[8] = (next() % 4) as u8; // TTL 0..3
        match next() % 6 {
            0 => b[10..12].copy_from_slice(&[0xff, 0xff]),
            1 => b[10..12].copy_from_slice(&[0, 0]),
            _ => {}
        }
        let l4ck = match proto {
            protocol::TCP => 36,
            protocol::UDP => 26,
            _ => 22,
        };
        if l4ck + 2 <= b.len() {
            match next() % 5 {
                0 => b[l4ck..l4ck + 2].copy_from_slice(&[0, 0]),
                1 => b[l4ck..l4ck + 2].copy_from_slice(&[0xff, 0xff]),
                _ => {}
            }
        }
        if next() % 8 == 0 {
            b[6] = 0x20 | (next() % 2) as u8; // MF, maybe an offset
        }
        if next() % 16 == 0 {
            b.truncate(b.len() - (next() as usize % 3)); // total > buffer
        }
        let pick = |x: u64| Ipv4Addr::from(if x % 3 == 0 { 0xc0a8_0b1f } else { x as u32 });
        let end = |x: u64, p: u64| End {
            addr: pick(x),
            port: (p % 4 != 0).then_some(p as u16),
        };
        let src = (next() % 3 != 0).then(|| end(next(), next()));
        let dst = (next() % 3 != 0).then(|| end(next(), next()));
        let ttl = next() % 2 == 0;
        let mut want = b.clone();
        let mut want_res = Ipv4Packet::new_checked(&want[..]).map(|_| ());
        for (side, e) in [(Side::Src, src), (Side::Dst, dst)] {
            if let Some(e) = e
                && want_res.is_ok()
            {
                want_res = rewrite_ipv4(&mut want, side, e.addr, e.port);
            }
        }
        if want_res.is_ok()
            && ttl
            && let Ok(mut p) = Ipv4Packet::new_checked(&mut want[..])
        {
            p.decrement_ttl();
        }
        let mut got = b.clone();
        let got_res = rewrite_ipv4_ends(&mut got, src, dst, ttl);
        assert_eq!(got_res.is_ok(), want_res.is_ok(), "case {i}");
        if got_res.is_ok() {
            assert_eq!(got, want, "case {i}");
        } else {
            assert_eq!(got, b, "case {i}: an error writes nothing");
        }
    }
}

#[test]
fn fill_checksums_finishes_partial() {
    for mk in [udp, tcp] {
        let want = mk(A, S, 40000, 443, b"offloaded");
        let mut b = want.clone();
        // What TX offload leaves: the folded pseudo-header sum, uncomplemented.
        let ck = if b[9] == protocol::TCP { 36 } else { 26 };
        let len = (b.len() - 20) as u16;
        let partial = checksum::fold(checksum::pseudo_header_sum(A, S, b[9], len));
        b[ck..ck + 2].copy_from_slice(&partial.to_be_bytes());
        b[10] ^= 0xff; // and a stale header checksum
        assert!(!l4_ok(&b));
        fill_checksums(&mut b).unwrap();
        assert_eq!(b, want);
    }
    let mut short = vec![
        0x45u8, 0, 0, 30, 0, 0, 0, 0, 64, 6, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    ];
    short.extend_from_slice(&[0; 10]);
    let before = short.clone();
    assert_eq!(fill_checksums(&mut short), Err(Error::Truncated));
    assert_eq!(short, before);
}
