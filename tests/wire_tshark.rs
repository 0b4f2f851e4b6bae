//! Frames built by `hagw::wire::build` are dissected by tshark (an
//! independent implementation): every IPv4, VRRP and ICMP checksum must be
//! "Good" and the fields must read back as built. Skipped (with a message)
//! when tshark is not installed.

mod common;

use common::pcap::PcapWriter;
use common::{Row, TempDir, get, tool_runs, tshark_fields};
use hagw::wire::build::{self, AdvertHeader};
use hagw::wire::checksum;
use hagw::wire::ethernet::EthernetAddress;
use hagw::wire::icmp::IcmpRepr;
use hagw::wire::ipv4::{Ipv4Packet, Ipv4Repr, protocol};
use hagw::wire::rewrite::{Side, rewrite_icmp_inner, rewrite_ipv4};
use hagw::wire::tcp::TcpPacket;
use hagw::wire::udp::{UdpPacket, UdpRepr};
use hagw::wire::vrrp::{ChecksumMode, VrrpRepr};
use std::net::Ipv4Addr;

const MAC: EthernetAddress = EthernetAddress([0x02, 0x68, 0x67, 0x00, 0x00, 0x0a]);
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0x68, 0x67, 0x00, 0x00, 0x0b]);
const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const VIP1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const VIP2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);

/// Write `frames` to a pcap (frame i at i seconds), dissect it with tshark
/// (`prefs` as `-o` options) and return `fields` of every frame.
fn dissect(frames: &[Vec<u8>], fields: &[&str], prefs: &[&str]) -> Vec<Row> {
    let dir = TempDir::new("wire-tshark", "pcap");
    let file = dir.path("frames.pcap");
    let mut w = PcapWriter::new();
    for (i, f) in (0u64..).zip(frames) {
        w.frame(i * 1_000_000, f);
    }
    w.write_to(&file);
    let rows = tshark_fields(&file, prefs, fields);
    assert_eq!(rows.len(), frames.len(), "{rows:?}");
    rows
}

fn advert(version: u8, hdr: &AdvertHeader, mode: ChecksumMode) -> Vec<u8> {
    let repr = VrrpRepr {
        version,
        vrid: 42,
        priority: 200,
        advert_interval: if version == 2 { 3 } else { 250 },
        auth_type: if version == 2 { 1 } else { 0 },
        auth_data: if version == 2 { *b"secret12" } else { [0; 8] },
        addresses: heapless::Vec::from_slice(&[VIP1, VIP2]).unwrap(),
    };
    let mut buf = [0u8; 1518];
    let n = build::vrrp_advert(&mut buf, hdr, &repr, mode);
    assert!(n > 0);
    buf[..n].to_vec()
}

/// An echo request written byte by byte.
fn echo_request() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC.0);
    f.extend_from_slice(&PEER_MAC.0);
    f.extend_from_slice(&[0x08, 0x00]);
    let mut ip = vec![0x45, 0x00, 0x00, 0x30, 0xab, 0xcd, 0x40, 0x00, 64, 1, 0, 0];
    ip.extend_from_slice(&PEER.octets());
    ip.extend_from_slice(&VIP1.octets());
    let c = checksum::checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07];
    icmp.extend_from_slice(b"0123456789abcdefghij");
    let c = checksum::checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&icmp);
    f
}

#[test]
fn tshark_agrees_with_our_frames() {
    if !tool_runs("tshark", &["--version"]) {
        println!("skipped: tshark not installed");
        return;
    }
    let mc = AdvertHeader::multicast(MAC, SRC, 100);
    let uc = AdvertHeader::unicast(EthernetAddress::vrrp_virtual(42), SRC, PEER_MAC, PEER, 101);
    let mut frames = vec![
        advert(2, &mc, ChecksumMode::Rfc),
        advert(3, &mc, ChecksumMode::Rfc),
        advert(3, &uc, ChecksumMode::Rfc),
        advert(3, &mc, ChecksumMode::Legacy),
    ];
    let mut buf = [0u8; 1518];
    let n = build::gratuitous_arp(&mut buf, MAC, VIP1);
    frames.push(buf[..n].to_vec());
    let n = build::arp_reply(&mut buf, MAC, VIP1, PEER_MAC, PEER);
    frames.push(buf[..n].to_vec());
    let req = echo_request();
    let n = build::echo_reply(&mut buf, &req, MAC, 7);
    frames.push(buf[..n].to_vec());
    let kind = IcmpRepr::DstUnreachable {
        code: 4,
        next_hop_mtu: 1400,
        invoking: &req[14..],
    };
    let n = build::icmp_error(&mut buf, (MAC, SRC), (PEER_MAC, PEER), kind, 8);
    frames.push(buf[..n].to_vec());
    let kind = IcmpRepr::TimeExceeded {
        code: 0,
        invoking: &req[14..],
    };
    let n = build::icmp_error(&mut buf, (MAC, SRC), (PEER_MAC, PEER), kind, 9);
    frames.push(buf[..n].to_vec());

    let fields = [
        "ip.checksum.status",
        "ip.ttl",
        "ip.dsfield",
        "ip.flags.df",
        "ip.id",
        "ip.src",
        "ip.dst",
        "vrrp.checksum.status",
        "vrrp.version",
        "vrrp.virt_rtr_id",
        "vrrp.prio",
        "vrrp.addr_count",
        "vrrp.adver_int",
        "vrrp.short_adver_int",
        "vrrp.ip_addr",
        "vrrp.auth_type",
        "vrrp.auth_string",
        "arp.opcode",
        "arp.src.hw_mac",
        "arp.src.proto_ipv4",
        "arp.dst.hw_mac",
        "arp.dst.proto_ipv4",
        "arp.isgratuitous",
        "icmp.type",
        "icmp.code",
        "icmp.checksum.status",
        "icmp.ident",
        "icmp.seq",
        "icmp.mtu",
        "eth.src",
        "eth.dst",
    ];
    let rows = dissect(&frames, &fields, &[]);
    for r in &rows[..4] {
        assert_eq!(get(r, "ip.checksum.status"), "1", "{r:?}");
        assert_eq!(get(r, "ip.ttl"), "255");
        assert_eq!(get(r, "ip.dsfield"), "0xc0");
        assert_eq!(get(r, "ip.flags.df"), "0");
        assert_eq!(get(r, "ip.src"), "192.0.2.1");
        assert_eq!(get(r, "vrrp.virt_rtr_id"), "42");
        assert_eq!(get(r, "vrrp.prio"), "200");
        assert_eq!(get(r, "vrrp.addr_count"), "2");
        assert_eq!(get(r, "vrrp.ip_addr"), "192.0.2.10,192.0.2.11");
    }
    // v2 multicast with plaintext auth.
    let r = &rows[0];
    assert_eq!(get(r, "vrrp.checksum.status"), "1");
    assert_eq!(get(r, "vrrp.version"), "2");
    assert_eq!(get(r, "vrrp.adver_int"), "3");
    assert_eq!(get(r, "vrrp.auth_type"), "1");
    assert_eq!(get(r, "vrrp.auth_string"), "secret12");
    assert_eq!(get(r, "ip.id"), "0x0064");
    assert_eq!(get(r, "ip.dst"), "224.0.0.18");
    assert_eq!(get(r, "eth.dst"), "01:00:5e:00:00:12");
    // v3 RFC checksum, multicast and unicast (pseudo-header uses the peer).
    for r in &rows[1..3] {
        assert_eq!(get(r, "vrrp.checksum.status"), "1", "{r:?}");
        assert_eq!(get(r, "vrrp.version"), "3");
        assert_eq!(get(r, "vrrp.short_adver_int"), "250");
    }
    assert_eq!(get(&rows[2], "ip.dst"), "192.0.2.2");
    assert_eq!(get(&rows[2], "eth.src"), "00:00:5e:00:01:2a");
    assert_eq!(get(&rows[2], "eth.dst"), "02:68:67:00:00:0b");
    // v3 legacy checksum is "Bad" for a strict RFC dissector...
    assert_eq!(get(&rows[3], "vrrp.checksum.status"), "0"); // 0 = Bad, 1 = Good
    // GARP.
    let r = &rows[4];
    assert_eq!(get(r, "arp.opcode"), "1");
    assert_eq!(get(r, "arp.isgratuitous"), "1");
    assert_eq!(get(r, "arp.src.proto_ipv4"), "192.0.2.10");
    assert_eq!(get(r, "arp.dst.proto_ipv4"), "192.0.2.10");
    assert_eq!(get(r, "arp.dst.hw_mac"), "ff:ff:ff:ff:ff:ff");
    assert_eq!(get(r, "eth.dst"), "ff:ff:ff:ff:ff:ff");
    // ARP reply.
    let r = &rows[5];
    assert_eq!(get(r, "arp.opcode"), "2");
    assert_eq!(get(r, "arp.src.hw_mac"), "02:68:67:00:00:0a");
    assert_eq!(get(r, "arp.src.proto_ipv4"), "192.0.2.10");
    assert_eq!(get(r, "arp.dst.hw_mac"), "02:68:67:00:00:0b");
    assert_eq!(get(r, "arp.dst.proto_ipv4"), "192.0.2.2");
    // Echo reply.
    let r = &rows[6];
    assert_eq!(get(r, "ip.checksum.status"), "1");
    assert_eq!(get(r, "icmp.type"), "0");
    assert_eq!(get(r, "icmp.checksum.status"), "1");
    assert_eq!(get(r, "icmp.ident"), "4660");
    assert_eq!(get(r, "icmp.seq"), "7");
    assert_eq!(get(r, "ip.src"), "192.0.2.10");
    assert_eq!(get(r, "ip.dst"), "192.0.2.2");
    // Frag needed with MTU, time exceeded: outer and quoted headers good.
    let r = &rows[7];
    // The quoted echo request is dissected too (second occurrence).
    assert_eq!(get(r, "icmp.type"), "3,8");
    assert_eq!(get(r, "icmp.code"), "4,0");
    assert_eq!(get(r, "icmp.mtu"), "1400");
    assert!(get(r, "icmp.checksum.status").starts_with('1'), "{r:?}");
    assert_eq!(get(r, "ip.checksum.status"), "1,1");
    assert_eq!(get(r, "ip.src"), "192.0.2.1,192.0.2.2");
    let r = &rows[8];
    assert_eq!(get(r, "icmp.type"), "11,8");
    assert!(get(r, "icmp.checksum.status").starts_with('1'), "{r:?}");

    // ...and "Good" when tshark is told v3 checksums are v2-style.
    let rows = dissect(&frames[3..4], &fields, &["vrrp.v3_checksum_as_in_v2:TRUE"]);
    assert_eq!(get(&rows[0], "vrrp.checksum.status"), "1");
}

/// Ethernet + IPv4 + TCP or UDP with our fill_checksum.
fn l4_frame(proto: u8, src: Ipv4Addr, dst: Ipv4Addr, sp: u16, dp: u16, data: &[u8]) -> Vec<u8> {
    let hl = if proto == protocol::TCP { 20 } else { 8 };
    let mut f = vec![0u8; 14 + 20 + hl + data.len()];
    f[..6].copy_from_slice(&PEER_MAC.0);
    f[6..12].copy_from_slice(&MAC.0);
    f[12] = 0x08;
    Ipv4Repr::new(src, dst, proto, hl + data.len())
        .emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
    f[34 + hl..].copy_from_slice(data);
    let l4 = &mut f[34..];
    if proto == protocol::TCP {
        let mut t = TcpPacket::new_unchecked(l4);
        t.set_src_port(sp);
        t.set_dst_port(dp);
        t.set_seq_number(1_000_000);
        t.set_ack_number(2_000_000);
        t.set_header_len(20);
        t.set_flags(0x18);
        t.set_window_len(1024);
        t.fill_checksum(src, dst);
    } else {
        let r = UdpRepr {
            src_port: sp,
            dst_port: dp,
            payload_len: data.len(),
        };
        assert!(r.emit(&mut UdpPacket::new_unchecked(l4), src, dst));
    }
    f
}

#[test]
fn tshark_agrees_with_tcp_udp_and_nat_rewrites() {
    if !tool_runs("tshark", &["--version"]) {
        println!("skipped: tshark not installed");
        return;
    }
    let lan = Ipv4Addr::new(192, 168, 11, 31);
    let server = Ipv4Addr::new(198, 51, 100, 13);
    let nat = Ipv4Addr::new(203, 0, 113, 5);
    let mut frames = Vec::new();
    for proto in [protocol::UDP, protocol::TCP] {
        let f = l4_frame(proto, lan, server, 47284, 53, b"some payload bytes!");
        frames.push(f.clone());
        // SNAT: source address and port.
        let mut g = f.clone();
        rewrite_ipv4(&mut g[14..], Side::Src, nat, Some(1025)).unwrap();
        frames.push(g.clone());
        // An ICMP error from a router about the translated packet, de-NATed:
        // outer destination and quoted source back to the LAN host.
        let inv = &g[14..];
        let kind = IcmpRepr::DstUnreachable {
            code: 3,
            next_hop_mtu: 0,
            invoking: inv,
        };
        let mut buf = [0u8; 1518];
        let n = build::icmp_error(&mut buf, (PEER_MAC, server), (MAC, nat), kind, 3);
        let mut e = buf[..n].to_vec();
        rewrite_ipv4(&mut e[14..], Side::Dst, lan, None).unwrap();
        rewrite_icmp_inner(&mut e[14..], Side::Src, lan, Some(47284)).unwrap();
        frames.push(e);
    }
    // A reset answering the (untranslated) TCP segment.
    let mut buf = [0u8; 1518];
    let n = build::tcp_reset(&mut buf, &frames[3], MAC, 77);
    assert!(n > 0);
    frames.push(buf[..n].to_vec());
    let fields = [
        "ip.checksum.status",
        "ip.src",
        "ip.dst",
        "tcp.flags.reset",
        "tcp.flags.ack",
        "tcp.seq_raw",
        "tcp.dstport",
        "udp.checksum.status",
        "udp.srcport",
        "tcp.checksum.status",
        "tcp.srcport",
        "icmp.checksum.status",
    ];
    let rows = dissect(
        &frames,
        &fields,
        &["udp.check_checksum:TRUE", "tcp.check_checksum:TRUE"],
    );
    let rst = &rows[6];
    assert_eq!(get(rst, "ip.checksum.status"), "1", "{rst:?}");
    assert_eq!(get(rst, "tcp.checksum.status"), "1", "{rst:?}");
    assert_eq!(get(rst, "tcp.flags.reset"), "1");
    assert_eq!(get(rst, "tcp.flags.ack"), "0");
    assert_eq!(get(rst, "tcp.seq_raw"), "2000000");
    assert_eq!(get(rst, "tcp.dstport"), "47284");
    assert_eq!(get(rst, "ip.src"), "198.51.100.13");
    for (i, r) in rows[..6].iter().enumerate() {
        let l4 = if i < 3 { "udp" } else { "tcp" };
        match i % 3 {
            0 => {
                assert_eq!(get(r, "ip.checksum.status"), "1", "{r:?}");
                assert_eq!(get(r, &format!("{l4}.checksum.status")), "1", "{r:?}");
                assert_eq!(get(r, &format!("{l4}.srcport")), "47284");
            }
            1 => {
                assert_eq!(get(r, "ip.checksum.status"), "1", "{r:?}");
                assert_eq!(get(r, "ip.src"), "203.0.113.5");
                assert_eq!(get(r, &format!("{l4}.checksum.status")), "1", "{r:?}");
                assert_eq!(get(r, &format!("{l4}.srcport")), "1025");
            }
            _ => {
                // Outer and quoted IPv4 headers, the ICMP checksum, and the
                // quoted transport header all read back translated.
                assert_eq!(get(r, "ip.checksum.status"), "1,1", "{r:?}");
                assert_eq!(get(r, "ip.src"), "198.51.100.13,192.168.11.31");
                assert_eq!(get(r, "ip.dst"), "192.168.11.31,198.51.100.13");
                assert!(get(r, "icmp.checksum.status").starts_with('1'), "{r:?}");
                assert_eq!(get(r, &format!("{l4}.srcport")), "47284");
                assert_eq!(get(r, &format!("{l4}.checksum.status")), "1", "{r:?}");
            }
        }
    }
}
