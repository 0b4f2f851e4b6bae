//! Robustness: every view, accessor, parser and builder in `hagw::wire`
//! and `hagw::local` gets random and mutated bytes (deterministic
//! xorshift, 200k cases) and random buffer sizes. The assertion is that
//! nothing panics (a panic is a crash, and a crash is a failover) and that
//! whatever parses re-emits to something that parses the same.

use hagw::local;
use hagw::wire::arp::{ArpPacket, ArpRepr};
use hagw::wire::build::{self, AdvertHeader};
use hagw::wire::checksum;
use hagw::wire::ethernet::{EthernetAddress, EthernetFrame, EthernetRepr};
use hagw::wire::icmp::{IcmpPacket, IcmpRepr};
use hagw::wire::ipv4::{Ipv4Packet, Ipv4Repr};
use hagw::wire::rewrite::{Side, fill_checksums, rewrite_icmp_inner, rewrite_ipv4};
use hagw::wire::tcp::TcpPacket;
use hagw::wire::udp::{UdpPacket, UdpRepr};
use hagw::wire::vrrp::{ChecksumMode, VrrpPacket, VrrpRepr, parse_advert_frame};
use std::net::Ipv4Addr;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n as u64).max(1)) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
    let src = Ipv4Addr::new(10, 0, 0, 1);
    let mut out = Vec::new();
    let mut buf = [0u8; 1518];
    for version in [2u8, 3] {
        let repr = VrrpRepr {
            version,
            vrid: 9,
            priority: 100,
            advert_interval: 1,
            auth_type: 1,
            auth_data: *b"password",
            addresses: heapless::Vec::from_slice(&[
                Ipv4Addr::new(10, 0, 0, 9),
                Ipv4Addr::new(10, 0, 0, 10),
            ])
            .unwrap(),
        };
        let n = build::vrrp_advert(
            &mut buf,
            &AdvertHeader::multicast(mac, src, 1),
            &repr,
            ChecksumMode::Rfc,
        );
        out.push(buf[..n].to_vec());
    }
    let n = build::gratuitous_arp(&mut buf, mac, src);
    out.push(buf[..n].to_vec());
    let n = build::arp_request(&mut buf, mac, Ipv4Addr::new(10, 0, 0, 2), src);
    out.push(buf[..n].to_vec());
    // An echo request: an echo reply turned around by hand.
    let mut req = vec![0u8; 14 + 20 + 8 + 16];
    req[12] = 0x08;
    req[14] = 0x45;
    req[17] = (20 + 8 + 16) as u8;
    req[22] = 64;
    req[23] = 1;
    req[26..30].copy_from_slice(&[10, 0, 0, 2]);
    req[30..34].copy_from_slice(&src.octets());
    let c = checksum::checksum(&req[14..34]);
    req[24..26].copy_from_slice(&c.to_be_bytes());
    req[34] = 8;
    let c = checksum::checksum(&req[34..]);
    req[36..38].copy_from_slice(&c.to_be_bytes());
    out.push(req.clone());
    let kind = IcmpRepr::TimeExceeded {
        code: 0,
        invoking: &req[14..],
    };
    let n = build::icmp_error(
        &mut buf,
        (mac, src),
        (mac, Ipv4Addr::new(10, 0, 0, 2)),
        kind,
        3,
    );
    out.push(buf[..n].to_vec());
    // UDP and TCP datagrams, and an ICMP error quoting the UDP one.
    let dst = Ipv4Addr::new(198, 51, 100, 7);
    for proto in [17u8, 6] {
        let hl = if proto == 6 { 20 } else { 8 };
        let mut f = vec![0u8; 14 + 20 + hl + 12];
        f[12] = 0x08;
        Ipv4Repr::new(src, dst, proto, hl + 12)
            .emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
        if proto == 6 {
            let mut t = TcpPacket::new_unchecked(&mut f[34..]);
            t.set_src_port(40000);
            t.set_dst_port(443);
            t.set_header_len(20);
            t.set_flags(0x02);
            t.fill_checksum(src, dst);
        } else {
            let r = UdpRepr {
                src_port: 40000,
                dst_port: 53,
                payload_len: 12,
            };
            assert!(r.emit(&mut UdpPacket::new_unchecked(&mut f[34..]), src, dst));
        }
        out.push(f);
    }
    let udp = out[out.len() - 2].clone();
    let kind = IcmpRepr::DstUnreachable {
        code: 3,
        next_hop_mtu: 0,
        invoking: &udp[14..],
    };
    let n = build::icmp_error(&mut buf, (mac, dst), (mac, src), kind, 4);
    out.push(buf[..n].to_vec());
    out
}

fn exercise(b: &[u8], rng: &mut Rng) {
    let mut out = vec![0u8; rng.below(1600)];
    let src = Ipv4Addr::new(10, 0, 0, 1);
    let dst = Ipv4Addr::new(224, 0, 0, 18);

    // Unchecked views: every accessor must be total.
    let e = EthernetFrame::new_unchecked(b);
    let _ = (e.dst_addr(), e.src_addr(), e.ethertype(), e.payload().len());
    let _ = EthernetRepr::parse(&e);
    let p = b.get(14..).unwrap_or(&[]);
    let ip = Ipv4Packet::new_unchecked(p);
    let _ = (
        ip.version(),
        ip.header_len(),
        ip.tos(),
        ip.total_len(),
        ip.ident(),
        ip.dont_frag(),
    );
    let _ = (
        ip.more_frags(),
        ip.frag_offset(),
        ip.ttl(),
        ip.protocol(),
        ip.checksum(),
    );
    let _ = (
        ip.src_addr(),
        ip.dst_addr(),
        ip.options().len(),
        ip.payload().len(),
        ip.verify_checksum(),
    );
    let _ = Ipv4Repr::parse(&ip);
    let _ = Ipv4Packet::new_embedded(p).map(|x| Ipv4Repr::parse_unverified(&x));
    let a = ArpPacket::new_unchecked(p);
    let _ = (
        a.operation(),
        a.source_hardware_addr(),
        a.target_protocol_addr(),
    );
    let _ = ArpRepr::parse(&a);
    let ip_payload = b.get(34..).unwrap_or(&[]);
    let ic = IcmpPacket::new_unchecked(ip_payload);
    let _ = (
        ic.msg_type(),
        ic.echo_ident(),
        ic.next_hop_mtu(),
        ic.data().len(),
        ic.verify_checksum(),
    );
    if let Ok(r) = IcmpRepr::parse(&ic) {
        let _ = r.invoking_packet();
        let mut o = vec![0u8; r.buffer_len()];
        assert!(r.emit(&mut IcmpPacket::new_unchecked(&mut o[..])));
        assert_eq!(
            IcmpRepr::parse(&IcmpPacket::new_unchecked(&o[..])).unwrap(),
            r
        );
    }
    let v = VrrpPacket::new_unchecked(ip_payload);
    let _ = (
        v.version(),
        v.count(),
        v.addr(1000),
        v.auth_data(),
        v.max_adver_int(),
        v.expected_len(),
    );
    if let Ok((r, mode)) = VrrpRepr::parse_with_mode(ip_payload, src, dst) {
        let n = r.emit(&mut out, src, dst, mode);
        if n > 0 {
            assert_eq!(VrrpRepr::parse(&out[..n], src, dst).unwrap(), r);
        }
    }
    let _ = parse_advert_frame(b);

    let t = TcpPacket::new_unchecked(ip_payload);
    let _ = (
        t.seq_number(),
        t.ack_number(),
        t.header_len(),
        t.options().len(),
        t.payload().len(),
    );
    let _ = (
        t.segment_len(),
        t.verify_checksum(src, dst),
        TcpPacket::new_checked(ip_payload).is_ok(),
    );
    let u = UdpPacket::new_unchecked(ip_payload);
    let _ = (u.len(), u.payload().len(), u.verify_checksum(src, dst));
    if let Ok(u) = UdpPacket::new_checked(ip_payload) {
        let _ = UdpRepr::parse(&u, src, dst);
    }
    // NAT surgery: either succeeds or leaves the bytes untouched.
    for side in [Side::Src, Side::Dst] {
        let mut m = p.to_vec();
        let port = (rng.next() % 2 == 0).then_some(rng.next() as u16);
        if rewrite_ipv4(&mut m, side, src, port).is_err() {
            assert_eq!(m, p);
        } else if Ipv4Packet::new_checked(p).is_ok_and(|x| x.verify_checksum()) {
            assert!(Ipv4Packet::new_checked(&m[..]).unwrap().verify_checksum());
        }
        let mut m = p.to_vec();
        if rewrite_icmp_inner(&mut m, side, dst, port).is_err() {
            assert_eq!(m, p);
        }
        let mut m = p.to_vec();
        if fill_checksums(&mut m).is_err() {
            assert_eq!(m, p);
        } else {
            assert!(Ipv4Packet::new_checked(&m[..]).unwrap().verify_checksum());
        }
    }

    // Mutable views on a copy: setters must be total too.
    let mut m = b.to_vec();
    {
        let mut ipm = Ipv4Packet::new_unchecked(m.get_mut(14..).unwrap_or(&mut []));
        ipm.set_ttl(1);
        ipm.fill_checksum();
        ipm.decrement_ttl();
        let _ = ipm.payload_mut().len();
    }
    {
        let mut vm = VrrpPacket::new_unchecked(m.get_mut(34..).unwrap_or(&mut []));
        vm.set_addr(usize::MAX, src);
        vm.set_auth_data(b"12345678");
        vm.fill_checksum_rfc(src, dst);
    }

    // Builders and local delivery with random output sizes.
    let mac = EthernetAddress([2, 0, 0, 0, 0, 2]);
    let _ = build::echo_reply(&mut out, b, mac, 1);
    let _ = build::tcp_reset(&mut out, b, mac, 1);
    let _ = build::icmp_error_allowed(p);
    let _ = local::answer_arp(b, |_| Some(mac), &mut out);
    let _ = local::answer_echo(b, |_| Some(mac), &mut out, 1);
    let _ = local::answer(
        b,
        |ip| (ip.octets()[3] & 1 == 1).then_some(mac),
        &mut out,
        1,
    );
    let kind = IcmpRepr::DstUnreachable {
        code: 3,
        next_hop_mtu: 0,
        invoking: ip_payload,
    };
    let _ = build::icmp_error(&mut out, (mac, src), (mac, src), kind, 1);
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let seeds = seeds();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for case in 0..200_000 {
        let b: Vec<u8> = if case % 10 == 0 {
            let n = rng.below(200);
            (0..n).map(|_| rng.next() as u8).collect()
        } else {
            let mut b = seeds[rng.below(seeds.len())].clone();
            for _ in 0..=rng.below(4) {
                match rng.below(4) {
                    0 => b.truncate(rng.below(b.len() + 1)),
                    1 => b.extend((0..rng.below(16)).map(|_| 0)),
                    _ => {
                        if !b.is_empty() {
                            let i = rng.below(b.len());
                            b[i] = rng.next() as u8;
                        }
                    }
                }
            }
            b
        };
        exercise(&b, &mut rng);
    }
}
